//! The registry of diagnostic codes.
//!
//! Codes are stable and never reused: `PC0xxx` syntax, `PC1xxx` check (errors), `PC2xxx` lint (warnings),
//! `PC3xxx` plan and remote. `permc explain CODE` prints the documentation written here.

use crate::diagnostic::Severity;

macro_rules! codes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = ($id:literal, $name:literal, $severity:ident, $summary:literal);
    )*) => {
        /// A diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable identifier, e.g. `PC1001`.
            pub const fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// The kebab-case name, e.g. `unknown-subject`.
            pub const fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub const fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One line: what the code reports.
            pub const fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// The long documentation (Markdown).
            pub const fn docs(self) -> &'static str {
                match self { $(Code::$variant => concat!($($doc, "\n",)*),)* }
            }
        }
    };
}

impl Code {
    /// Looks a code up by identifier (`PC1001`, case-insensitive) or by name (`unknown-subject`).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|code| code.id().eq_ignore_ascii_case(text) || code.name() == text)
    }
}

impl Code {
    /// Whether the code is a lint (`PC2xxx`): a warning by default, configurable per project.
    pub fn is_lint(self) -> bool {
        self.id().starts_with("PC2")
    }
}

impl Code {
    /// The documentation as Markdown text (doc comments keep the space after `///`; it is removed).
    pub fn documentation(self) -> String {
        let lines: Vec<&str> =
            self.docs().trim_end().lines().map(|line| line.strip_prefix(' ').unwrap_or(line)).collect();
        lines.join("\n")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

codes! {
    /// A policy file is not well-formed YAML, JSON or HCL.
    ///
    /// permc reports the first syntax error of each file at the place the parser stopped and goes on
    /// checking the other files. Nothing from a file with a syntax error reaches the model, so checks that
    /// need the whole project (unknown roles, duplicate slugs) may be incomplete until it is fixed.
    SyntaxError = ("PC0001", "syntax-error", Error, "the file is not well-formed YAML, JSON or HCL");

    /// A policy file is not valid UTF-8.
    ///
    /// Policy files must be UTF-8. The diagnostic points at the first invalid byte.
    InvalidUtf8 = ("PC0002", "invalid-utf8", Error, "the file is not valid UTF-8");

    /// The file uses a language feature permc does not accept in policy files.
    ///
    /// In YAML: anchors, aliases, tags and multiple documents. In HCL: function calls other than `glob(...)`,
    /// variables, template interpolation, conditionals and `for` expressions. Policy files are data; they
    /// must say what they mean literally so that reviewers and tools read the same thing.
    ///
    /// ## Example
    /// ```hcl
    /// environment = var.env   # not allowed: write the environment slug
    /// ```
    UnsupportedSyntax = ("PC0003", "unsupported-syntax", Error, "the file uses a feature policy files do not allow");

    /// A key appears twice in the same mapping or block.
    ///
    /// YAML parsers disagree about which occurrence wins, and Infisical's JSON parser keeps the last one.
    /// permc refuses the ambiguity.
    DuplicateKey = ("PC0004", "duplicate-key", Error, "a key appears twice in one mapping");

    /// A policy file is larger than permc reads.
    ///
    /// Files over 64 MiB are refused to keep memory bounded; split the file.
    FileTooLarge = ("PC0005", "file-too-large", Error, "the file is too large");

    /// A key that permc does not know in a policy document.
    ///
    /// At the level of a permission rule this is also what Infisical does silently: unknown keys are
    /// stripped, so a misspelled `inverted` or `conditions` would turn a deny into an allow or a narrow
    /// rule into a broad one. permc refuses it.
    ///
    /// ## Example
    /// ```yaml
    /// permissions:
    ///   - subject: secrets
    ///     action: readValue
    ///     condition: { environment: prod }   # did you mean `conditions`?
    /// ```
    UnknownField = ("PC1001", "unknown-field", Error, "a key permc does not know");

    /// A value has the wrong type, e.g. a number where a string is expected.
    ///
    /// Infisical rejects these with a validation error (HTTP 422).
    WrongType = ("PC1002", "wrong-type", Error, "a value has the wrong type");

    /// A required key is missing.
    MissingField = ("PC1003", "missing-field", Error, "a required key is missing");

    /// A permission names a subject Infisical does not have.
    ///
    /// Subjects are listed by `permc explain --catalog`. Note that the project subject is spelled
    /// `workspace` on the wire, although Infisical's documentation calls it `project`.
    ///
    /// ## Example
    /// ```yaml
    /// - subject: project     # use `workspace`
    ///   action: edit
    /// ```
    UnknownSubject = ("PC1010", "unknown-subject", Error, "a subject Infisical does not have");

    /// A permission names an action that no subject has.
    UnknownAction = ("PC1011", "unknown-action", Error, "an action Infisical does not have");

    /// A permission names an action that exists, but not for this subject.
    ///
    /// ## Example
    /// ```yaml
    /// - subject: secret-folders
    ///   action: readValue      # secret-folders has read, create, edit, delete
    /// ```
    ActionNotForSubject = ("PC1012", "action-not-for-subject", Error, "an action the subject does not have");

    /// A permission uses the name Infisical's web interface shows instead of the API name.
    ///
    /// The API only accepts its own spelling: `readValue`, not `read-value`. The fix renames it.
    UiActionName = ("PC1013", "ui-action-name", Error, "the interface name of an action instead of the API name");

    /// A permission has an empty action list.
    ///
    /// Infisical requires at least one action per rule.
    EmptyActions = ("PC1014", "empty-actions", Error, "a rule with no actions");

    /// `inverted` on a subject that does not support inversion.
    ///
    /// Infisical strips the key silently, so the deny you wrote would be stored as an **allow**.
    ///
    /// ## Example
    /// ```yaml
    /// - subject: role
    ///   action: delete
    ///   inverted: true      # stored as: allow delete on role
    /// ```
    InvertedNotSupported = ("PC1020", "inverted-not-supported", Error, "`inverted` on a subject without inversion");

    /// `conditions` on a subject that does not support conditions.
    ///
    /// Infisical strips the conditions silently, so the rule applies everywhere.
    ConditionsNotSupported = ("PC1021", "conditions-not-supported", Error, "`conditions` on a subject without conditions");

    /// A condition key the subject does not have.
    ///
    /// Infisical strips unknown condition keys silently, which makes the rule broader than written.
    ///
    /// ## Example
    /// ```yaml
    /// conditions:
    ///   secretpath: /app      # did you mean `secretPath`? stored without it
    /// ```
    UnknownConditionKey = ("PC1022", "unknown-condition-key", Error, "a condition key the subject does not have");

    /// An operator the condition key does not allow, or no operator Infisical knows.
    ///
    /// Infisical strips unsupported operators silently and keeps the rest, which makes the rule broader
    /// than written (for example `$ne` on `hostname`, or `$glob` on a folder's `environment`).
    OperatorNotAllowed = ("PC1023", "operator-not-allowed", Error, "an operator the condition key does not allow");

    /// An operator's value has the wrong type, e.g. a list for `$eq` or a string for `$in`.
    OperatorValueType = ("PC1024", "operator-value-type", Error, "an operator value of the wrong type");

    /// An empty or blank string where Infisical requires a value, or an element with surrounding blanks
    /// that Infisical would trim.
    EmptyValue = ("PC1025", "empty-value", Error, "an empty value, or one Infisical would trim");

    /// A `secretPath` literal, `$eq`, `$ne` or `$in` element that does not start with `/`.
    ///
    /// Infisical rejects these ("Invalid Secret Path; it must start with a '/'"). A `$glob` without a
    /// leading `/` is accepted by Infisical but can never match; `permc lint` reports that.
    SecretPathSlash = ("PC1026", "secret-path-slash", Error, "a secret path that does not start with `/`");

    /// A `$glob` pattern that picomatch cannot compile.
    InvalidGlob = ("PC1027", "invalid-glob", Error, "a glob pattern Infisical cannot compile");

    /// A condition key that is not allowed for one of the rule's actions.
    ///
    /// For `member`, `identity` and `groups`, Infisical restricts which condition keys each action accepts
    /// (e.g. `identity` `create` accepts none) and answers HTTP 400.
    ConditionNotForAction = ("PC1028", "condition-not-for-action", Error, "a condition key the action does not allow");

    /// An `assignableAction` value that is not of the form `subject:action`, or whose subject part is
    /// excluded by `assignableSubject` in the same rule.
    AssignableActionFormat = ("PC1029", "assignable-action-format", Error, "an `assignableAction` Infisical rejects");

    /// The legacy `read` action and `describeSecret` or `readValue` in one `secrets` rule.
    ///
    /// Infisical answers HTTP 400. Use `describeSecret` and `readValue` (`read` is legacy).
    LegacyReadCombined = ("PC1030", "legacy-read-combined", Error, "`read` together with `describeSecret` or `readValue`");

    /// The legacy `grant-privileges` action and `assign-role` or `assign-additional-privileges` in one rule.
    LegacyGrantCombined = ("PC1031", "legacy-grant-combined", Error, "`grant-privileges` together with an `assign-*` action");

    /// A handlebars template Infisical refuses: every `{{...}}` must name an `identity.` path or one of the
    /// helpers `replace`, `truncate`, `random`, `uppercase`, `lowercase`.
    InvalidTemplate = ("PC1032", "invalid-template", Error, "a template Infisical refuses");

    /// A slug Infisical's slug rule rejects.
    ///
    /// Slugs are lowercase letters and digits joined by single hyphens; role slugs are 1-64 characters,
    /// additional-privilege slugs 1-60.
    InvalidSlug = ("PC1040", "invalid-slug", Error, "a slug Infisical rejects");

    /// A custom role uses a slug reserved for a predefined role (`admin`, `member`, `viewer`, `no-access`,
    /// `custom`, ...).
    ReservedSlug = ("PC1041", "reserved-slug", Error, "a reserved role slug");

    /// Two objects of the same kind with the same slug or name.
    DuplicateName = ("PC1042", "duplicate-name", Error, "two objects with the same slug or name");

    /// A role assignment names a role that is neither predefined nor defined in the repository.
    UnknownRole = ("PC1043", "unknown-role", Error, "a role that is neither predefined nor defined");

    /// An environment slug that the project declaration does not list.
    UnknownEnvironment = ("PC1044", "unknown-environment", Error, "an environment the project does not declare");

    /// A duration Infisical's `ms` parser rejects, or one outside the allowed range.
    ///
    /// Durations are numbers with an optional unit: `30m`, `4h`, `2 days`, `1w`, `1y`. A bare number is
    /// milliseconds. Compound forms like `1h30m` are not accepted.
    InvalidDuration = ("PC1045", "invalid-duration", Error, "a duration Infisical rejects");

    /// A timestamp that is not an ISO-8601 UTC date-time (`2026-01-31T09:00:00Z`).
    InvalidTimestamp = ("PC1046", "invalid-timestamp", Error, "a timestamp Infisical rejects");

    /// An approval policy or step without approvers, or an approval count below one.
    InvalidApprovalPolicy = ("PC1047", "invalid-approval-policy", Error, "an approval policy Infisical rejects");

    /// The project declaration is missing, given twice, or incomplete.
    ProjectDeclaration = ("PC1048", "project-declaration", Error, "a problem with the project declaration");

    /// A value permc expects from a closed set (an enforcement level, an approver type) is not one of them.
    InvalidValue = ("PC1049", "invalid-value", Error, "a value outside its allowed set");

    /// A rule that grants nothing its role or privilege does not already grant.
    ///
    /// Infisical applies every deny after every allow, so an allow rule adds something only where no other
    /// allow of the same subject and action already matches. permc compares the exact set of requests
    /// each rule matches (`$glob` patterns as the languages picomatch compiles them to) and reports an allow
    /// whose requests the rest of its rule list already allows, or a deny whose requests other denies of the
    /// list already deny, naming the covering rules. When only some actions of a rule are covered, those
    /// actions are reported. Rules with templates or metadata conditions are not judged.
    RedundantRule = ("PC2001", "redundant-rule", Warning, "a rule the rest of its rule list already covers");

    /// An additional privilege that grants nothing the member does not already have.
    ///
    /// permc assembles the member's rules as Infisical does (roles first, then additional privileges;
    /// denies last) and shows that every request the privilege decides is answered the same without it,
    /// counting only grants that last at least as long as the privilege: a temporary role that ends before
    /// the privilege does not cover it.
    RedundantPrivilege = ("PC2002", "redundant-privilege", Warning, "a privilege the member's other grants already cover");

    /// A deny rule that removes nothing from what the member is granted.
    ///
    /// A deny only matters where some allow would otherwise grant the request. permc checks every member
    /// who holds the rule; when no request the deny matches is allowed to any of them, the deny is dead
    /// weight, often a sign that its conditions are not what was meant.
    IneffectiveDeny = ("PC2003", "ineffective-deny", Warning, "a deny rule that removes nothing");

    /// An allow after an overlapping deny: the answer depends on how rules are ordered.
    ///
    /// The current Infisical backend applies every deny after every allow, so the deny wins. Older
    /// backends, and any evaluator that consults rules in the order written (CASL's last-match-wins), let
    /// the later allow win. permc shows a request both rules match with both answers; write the rules so
    /// they do not overlap, or narrow the allow.
    OrderDependentDeny = ("PC2004", "order-dependent-deny", Warning, "an allow and a deny whose outcome depends on rule order");

    /// The legacy `read` action on `secrets`.
    ///
    /// `read` is the umbrella action that `describeSecret` and `readValue` replaced. Infisical still honours
    /// it through a fallback on the secret endpoints, but new rules should grant the two actions they
    /// mean: `describeSecret` (see that a secret exists and its metadata) and `readValue` (its value).
    LegacyReadAction = ("PC2005", "legacy-read-action", Warning, "the legacy `read` action on `secrets`");

    /// `readValue` granted where `describeSecret` is not.
    ///
    /// Infisical's documentation requires `describeSecret` to read secret values; most endpoints list
    /// or look secrets up before reading them. permc reports a rule list that grants `readValue` on
    /// requests it does not grant `describeSecret` (or the legacy `read`) on, with such a request.
    ReadvalueWithoutDescribe = ("PC2006", "readvalue-without-describe", Warning, "`readValue` without `describeSecret`");

    /// The legacy `grant-privileges` action.
    ///
    /// `grant-privileges` is the umbrella action that `assign-role`, `assign-additional-privileges` and
    /// the other `assign-*` actions replaced; grant those instead, each with the conditions it needs.
    LegacyGrantPrivileges = ("PC2007", "legacy-grant-privileges", Warning, "the legacy `grant-privileges` action");

    /// A rule whose conditions no object can satisfy.
    ///
    /// Such a rule still counts for checks without an object, which is rarely meant. Reasons include a
    /// condition on a field Infisical never sets on the subject (`eventType` on `secrets`, `connectionId`
    /// on `secret-event-subscriptions`), contradictory operators (`$eq: a` with `$ne: a`), and secret paths
    /// Infisical never produces (a glob without a leading `/`, a literal path with a trailing slash).
    NeverMatches = ("PC2008", "never-matches", Warning, "conditions no object can satisfy");

    /// A temporary grant whose time is over.
    ///
    /// Infisical keeps expired temporary roles and privileges but ignores them. Keeping them in the policy
    /// repository is misleading: remove them, or give them a new start.
    ExpiredPrivilege = ("PC2009", "expired-privilege", Warning, "a temporary grant that has ended");

    /// A temporary grant that the member's permanent grants already cover.
    ///
    /// The member already has everything the temporary role or privilege grants, permanently; the
    /// temporary grant changes nothing, which usually means the permanent grants are broader than meant.
    TemporaryCoveredByPermanent = ("PC2010", "temporary-covered-by-permanent", Warning, "a temporary grant that permanent grants cover");

    /// A soft-enforced access policy with no bypassers.
    ///
    /// With `enforcementLevel: soft` the seeds describe that anyone may bypass the approval when no
    /// bypassers are named. Name the users or groups that may bypass, or enforce the policy `hard`.
    BypassWithoutBypassers = ("PC2011", "bypass-without-bypassers", Warning, "a soft policy that names no bypassers");

    /// An approval step that requires more approvals than it has approvers.
    ///
    /// When every approver of a step is a user, a step asking for more approvals than it lists can never
    /// complete. Groups may have many members and are not counted this way.
    ApprovalsExceedApprovers = ("PC2012", "approvals-exceed-approvers", Warning, "more approvals required than approvers");

    /// Self-approval allowed where a step has a single approver.
    ///
    /// `allowedSelfApprovals` is `true` by default. With a single approver in a step, that person can
    /// approve their own request, which makes the step a formality.
    SelfApproval = ("PC2013", "self-approval", Warning, "a sole approver may approve their own request");

    /// Two approval policies on overlapping paths of one environment with different enforcement.
    ///
    /// Which one applies to a secret in the overlap is not obvious from either policy; make the paths
    /// disjoint or the enforcement equal.
    OverlappingApprovalPolicies = ("PC2014", "overlapping-approval-policies", Warning, "approval policies that overlap with different enforcement");

    /// A permanent additional privilege that reaches secrets protected by an access policy.
    ///
    /// An access policy makes members request temporary access and wait for approval. A permanent
    /// privilege on the same environment and path grants the access directly and bypasses the flow.
    PrivilegeBypassesApproval = ("PC2015", "privilege-bypasses-approval", Warning, "a permanent privilege that bypasses an access policy");

    /// A permanent allow of create, edit or delete on every secret of a sensitive environment.
    ///
    /// The project declaration marks environments as `sensitiveEnvironments`. A permanent rule that may
    /// write or delete every secret there (no path condition, or one that covers `/**`) is a standing risk;
    /// narrow the path or make it a temporary privilege.
    BroadProductionWrite = ("PC2016", "broad-production-write", Warning, "permanent write access to all of a sensitive environment");

    /// An action Infisical still accepts but has marked deprecated.
    ///
    /// The catalog records where the deprecation is stated (for `certificate-templates`, `issue-cert` and
    /// `list-certs` are marked deprecated in Infisical's default roles). Such actions may stop working in a
    /// later Infisical version; plan the move away from them.
    DeprecatedAction = ("PC2017", "deprecated-action", Warning, "an action Infisical has marked deprecated");

    /// The same permanent privilege rules, by meaning, granted to several members.
    ///
    /// Infisical's documentation says: "If you find yourself assigning the same additional privileges
    /// repeatedly, consider creating a custom role instead." Rules are compared by meaning (action order,
    /// a plain value or its `$eq`, the order of `$in` lists do not matter). The lint fires when at least
    /// three members hold such a privilege and names the role `permc roles suggest` would propose; that
    /// command also proves the rewrite keeps every member's access identical.
    RepeatedPrivileges = ("PC2018", "repeated-privileges", Warning, "the same privilege granted to several members");

    /// A `# permc:ignore` comment permc does not understand, or one that names an error.
    ///
    /// The form is `# permc:ignore CODE[, CODE] -- reason`, optionally followed by `until YYYY-MM-DD`;
    /// codes are lint codes or names (`PC2002` or `redundant-privilege`). The reason is required: a
    /// suppression without one cannot be reviewed. Errors cannot be silenced: they are what Infisical
    /// rejects or silently changes.
    InvalidSuppression = ("PC2019", "invalid-suppression", Warning, "a suppression comment that is not understood");

    /// A `# permc:ignore` comment that silences nothing.
    ///
    /// A suppression covers its own line (as a trailing comment) or the next line that is not a comment.
    /// When no finding of its codes is there, the finding it was written for is gone (or it sits on the
    /// wrong line); remove it so that suppressions stay meaningful.
    UnusedSuppression = ("PC2020", "unused-suppression", Warning, "a suppression that silences nothing");

    /// A `# permc:ignore ... until DATE` whose date has passed.
    ///
    /// From the day after `until`, the suppression no longer silences its findings, and this warning says
    /// so. Fix what it silenced, or renew it with a later date.
    ExpiredSuppression = ("PC2021", "expired-suppression", Warning, "a suppression whose date has passed");

    /// A value in the Infisical Terraform provider's configuration that `permc import --from-terraform`
    /// cannot read.
    ///
    /// permc reads literal values and `jsonencode(...)` of literals, and follows a reference from a
    /// privilege's `identity_id` to an `infisical_project_identity` in the same configuration. Variables,
    /// other references and functions have values only Terraform knows; the attribute is left out of the
    /// imported files, and this warning names it so it can be written in by hand.
    TerraformUnresolved = ("PC3001", "terraform-unresolved", Warning, "a Terraform value permc cannot read");

    /// The provider's legacy permission form (`permissions` on a role, `permission` on a privilege).
    ///
    /// permc converts it to the equivalent rules (`secret_path` becomes a `$glob` on `secretPath`, as the
    /// provider does). Infisical itself added rules when it stored the legacy form (secret imports, folders
    /// and dynamic secrets mirror the secrets rule), so the first `permc plan` after the import shows them;
    /// keep the ones that are wanted.
    TerraformLegacyPermission = ("PC3002", "terraform-legacy-permission", Warning, "the Terraform provider's legacy permission form");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_sorted_and_documented() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        let sorted = ids.clone();
        ids.sort();
        assert_eq!(ids, sorted, "codes must be listed in order");
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len(), "duplicate code id");
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len(), "duplicate code name");
        for code in Code::ALL {
            assert!(code.name().bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()));
            assert!(!code.docs().trim().is_empty(), "{code} has no docs");
            assert_eq!(Code::parse(code.id()), Some(*code));
            assert_eq!(Code::parse(code.name()), Some(*code));
        }
    }
}
