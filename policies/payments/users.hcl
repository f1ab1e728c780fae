user "alice@example.com" {
  roles = ["admin"]
}

user "bob@example.com" {
  roles = ["backend-developer"]

  # On call this week: read production for the length of the shift.
  role "prod-reader" {
    duration = "7d"
    start    = "2026-11-16T08:00:00Z"
  }
}

user "carol@example.com" {
  roles = ["backend-developer", "release-manager"]

  privilege "hotfix-checkout" {
    duration = "4h"
    start    = "2026-11-21T14:30:00Z"

    permission {
      subject = "secrets"
      action  = ["edit"]
      conditions {
        environment = "prod"
        secretPath  = "/services/checkout"
        secretName  = { in = ["FEATURE_FLAGS", "TIMEOUT_MS"] }
      }
    }
  }
}

user "dave@example.com" {
  roles = ["viewer"]
}
