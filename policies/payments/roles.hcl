# Custom roles. Predefined roles (admin, member, viewer, no-access) need no declaration.

role "backend-developer" {
  name        = "Backend developer"
  description = "Works on the payment services outside production"

  permission {
    subject = "secrets"
    action  = ["describeSecret", "readValue", "create", "edit", "delete"]
    conditions {
      environment = { in = ["dev", "staging"] }
      secretPath  = glob("/services/**")
    }
  }

  permission {
    subject = "secret-folders"
    action  = ["read", "create", "edit"]
    conditions {
      environment = { in = ["dev", "staging"] }
    }
  }

  permission {
    subject = "secret-imports"
    action  = "read"
  }

  permission {
    subject = "environments"
    action  = "read"
  }
}

role "prod-reader" {
  name        = "Production reader"
  description = "Reads production service secrets, never the payment provider keys"

  permission {
    subject = "secrets"
    action  = ["describeSecret", "readValue"]
    conditions {
      environment = "prod"
      secretPath  = glob("/services/**")
    }
  }

  # Provider credentials stay with the release managers.
  permission {
    subject  = "secrets"
    action   = ["describeSecret", "readValue"]
    inverted = true
    conditions {
      environment = "prod"
      secretPath  = glob("/services/*/provider/**")
    }
  }
}

role "release-manager" {
  name = "Release manager"

  permission {
    subject = "secrets"
    action  = ["describeSecret", "readValue", "create", "edit"]
    conditions {
      environment = "prod"
      secretPath  = glob("/services/**")
      secretTags  = { in = ["release"] }
    }
  }

  permission {
    subject = "secret-rollback"
    action  = ["read", "create"]
  }

  permission {
    subject = "commits"
    action  = ["read", "perform-rollback"]
  }

  permission {
    subject = "identity"
    action  = "read"
  }

  # May hand out the production reader role to machine identities, nothing else.
  permission {
    subject = "identity"
    action  = "assign-role"
    conditions {
      assignableRole = { in = ["prod-reader"] }
    }
  }
}
