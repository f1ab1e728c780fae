# Deployers: each may write staging service secrets and read production ones.

identity "deploy-eu" {
  roles = ["no-access"]

  privilege "deploy" {
    permission {
      subject = "secrets"
      action  = ["describeSecret", "readValue"]
      conditions {
        environment = "prod"
        secretPath  = glob("/services/**")
      }
    }

    permission {
      subject = "secrets"
      action  = ["create", "edit"]
      conditions {
        environment = "staging"
        secretPath  = glob("/services/**")
      }
    }
  }
}

identity "deploy-us" {
  roles = ["no-access"]

  privilege "deploy" {
    permission {
      subject = "secrets"
      action  = ["describeSecret", "readValue"]
      conditions {
        environment = "prod"
        secretPath  = glob("/services/**")
      }
    }

    permission {
      subject = "secrets"
      action  = ["create", "edit"]
      conditions {
        environment = "staging"
        secretPath  = glob("/services/**")
      }
    }
  }
}
