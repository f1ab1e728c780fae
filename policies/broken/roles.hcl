role "Prod_Readers" {
  permission {
    subject = "secrets"
    action  = ["read-value", "describeSecret"]
    conditions {
      environment = "production"
      secretPath  = "app/config"
      secretpath  = glob("/app/**")
    }
  }

  permission {
    subject  = "role"
    action   = "delete"
    inverted = true
  }

  permission {
    subject = "project"
    action  = "edit"
  }
}

role "admin" {
  permission {
    subject = "secrets"
    action  = ["read", "readValue"]
  }

  permission {
    subject = "identity"
    action  = ["read", "create"]
    conditions {
      identityId = "5a1f3c0e-0000-4000-8000-000000000001"
    }
  }

  permission {
    subject = "secret-folders"
    action  = "read"
    conditions {
      environment = glob("prod-*")
    }
  }
}
