pub mod fake_infisical;
