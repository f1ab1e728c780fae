# The Infisical project this repository describes.
project "payments" {
  id           = "5f0c2a9e-7d3b-4b8e-9a61-0c4f1e2d3a4b"
  host         = "https://app.infisical.com"
  catalog      = "infisical-05db254d"
  environments = ["dev", "staging", "prod"]

  # Broad writes here are reported by `permc lint`.
  sensitiveEnvironments = ["prod"]
}
