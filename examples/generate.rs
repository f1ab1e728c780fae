//! Generates a large, realistic policy repository for benchmarks, deterministic from a seed.
//!
//! ```sh
//! cargo run --release --example generate -- --size large --seed 1 --format hcl target/bench/large-hcl
//! ```
//!
//! Sizes: `small` (20 roles, 200 members), `medium` (100 roles, 2,000 members), `large` (500 roles of 5-40
//! rules, 20,000 users and machine identities with 0-6 additional privileges of 1-8 rules each, about
//! 100,000 rules over about 2,000 files). Privileges are drawn from a pool of recurring ones 70% of the time;
//! about a third of the role assignments and privileges that are temporary. Formats: `hcl`, `yaml`, or `mixed`
//! (roles in HCL, members in YAML).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const ENVIRONMENTS: &[&str] = &["dev", "staging", "qa", "prod"];

struct Size {
    roles: usize,
    members: usize,
    access_policies: usize,
    secret_policies: usize,
    teams: usize,
}

fn size(name: &str) -> Option<Size> {
    match name {
        "small" => Some(Size { roles: 20, members: 200, access_policies: 5, secret_policies: 3, teams: 8 }),
        "medium" => Some(Size { roles: 100, members: 2_000, access_policies: 20, secret_policies: 8, teams: 20 }),
        "large" => Some(Size { roles: 500, members: 20_000, access_policies: 50, secret_policies: 20, teams: 40 }),
        _ => None,
    }
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

#[derive(Clone)]
enum Cond {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    All(Vec<String>),
    Glob(String),
}

#[derive(Clone)]
struct Rule {
    subject: &'static str,
    actions: Vec<&'static str>,
    inverted: bool,
    conditions: Vec<(&'static str, Cond)>,
}

struct World {
    teams: usize,
}

impl World {
    fn team(&self, rng: &mut Rng) -> String {
        format!("team-{:02}", rng.below(self.teams) + 1)
    }

    fn path_condition(&self, rng: &mut Rng) -> Cond {
        let team = self.team(rng);
        let service = format!("svc-{:02}", rng.below(10) + 1);
        match rng.below(8) {
            0 => Cond::Glob(format!("/{team}/**")),
            1 | 2 => Cond::Glob(format!("/{team}/{service}/**")),
            3 => Cond::Glob(format!("/{team}/*/config/**")),
            4 => Cond::Glob(format!("/{team}/{{{service},shared}}/**")),
            5 => Cond::Eq(format!("/{team}/{service}/db")),
            6 => Cond::In(vec![format!("/{team}/{service}"), format!("/{team}/shared")]),
            _ => Cond::Glob("/shared/**".into()),
        }
    }

    fn environment_condition(&self, rng: &mut Rng, glob_allowed: bool) -> Option<Cond> {
        match rng.below(10) {
            0..=4 => Some(Cond::Eq(rng.pick(ENVIRONMENTS).into())),
            5..=7 => {
                let first = rng.below(ENVIRONMENTS.len());
                let second = (first + 1 + rng.below(ENVIRONMENTS.len() - 1)) % ENVIRONMENTS.len();
                Some(Cond::In(vec![ENVIRONMENTS[first].into(), ENVIRONMENTS[second].into()]))
            }
            8 if glob_allowed => Some(Cond::Ne("prod".into())),
            _ => None,
        }
    }

    fn rule(&self, rng: &mut Rng) -> Rule {
        match rng.below(20) {
            0..=11 => {
                let inverted = rng.chance(10);
                let actions: Vec<&str> = if inverted {
                    vec![rng.pick(&["readValue", "edit", "delete"])]
                } else {
                    match rng.below(4) {
                        0 => vec!["describeSecret"],
                        1 | 2 => vec!["describeSecret", "readValue"],
                        _ => vec!["describeSecret", "readValue", "create", "edit"],
                    }
                };
                let mut conditions = Vec::new();
                if let Some(env) = self.environment_condition(rng, true) {
                    conditions.push(("environment", env));
                }
                if !rng.chance(15) {
                    conditions.push(("secretPath", self.path_condition(rng)));
                }
                if rng.chance(10) {
                    conditions.push(("secretName", Cond::In(vec!["DATABASE_URL".into(), "API_KEY".into()])));
                }
                if rng.chance(8) {
                    let tags = vec![rng.pick(&["pci", "release", "internal"]).to_string()];
                    conditions.push(("secretTags", if rng.chance(50) { Cond::In(tags) } else { Cond::All(tags) }));
                }
                Rule { subject: "secrets", actions, inverted, conditions }
            }
            12 | 13 => {
                let actions = if rng.chance(70) { vec!["read"] } else { vec!["read", "create", "edit"] };
                let mut conditions = Vec::new();
                if let Some(env) = self.environment_condition(rng, false) {
                    conditions.push(("environment", env));
                }
                conditions.push(("secretPath", self.path_condition(rng)));
                Rule { subject: "secret-folders", actions, inverted: false, conditions }
            }
            14 => Rule {
                subject: "secret-imports",
                actions: vec!["read"],
                inverted: false,
                conditions: vec![("secretPath", self.path_condition(rng))],
            },
            15 => {
                let mut conditions = Vec::new();
                if let Some(env) = self.environment_condition(rng, true) {
                    conditions.push(("environment", env));
                }
                conditions.push(("secretPath", self.path_condition(rng)));
                Rule { subject: "dynamic-secrets", actions: vec!["lease"], inverted: false, conditions }
            }
            16 => Rule { subject: "environments", actions: vec!["read"], inverted: false, conditions: Vec::new() },
            17 => Rule { subject: "identity", actions: vec!["read"], inverted: false, conditions: Vec::new() },
            18 => Rule { subject: "member", actions: vec!["read"], inverted: false, conditions: Vec::new() },
            _ => Rule {
                subject: "secret-syncs",
                actions: vec!["read", "sync-secrets"],
                inverted: false,
                conditions: vec![("environment", Cond::Eq(rng.pick(ENVIRONMENTS).into()))],
            },
        }
    }
}

struct Privilege {
    slug: String,
    temporary: Option<(String, String)>,
    rules: Vec<Rule>,
}

struct Member {
    email: Option<String>,
    name: String,
    roles: Vec<(String, Option<(String, String)>)>,
    privileges: Vec<Privilege>,
}

fn temporary(rng: &mut Rng) -> (String, String) {
    let duration = rng.pick(&["4h", "8h", "1d", "7d", "30d"]).to_string();
    let start = format!("2026-11-{:02}T{:02}:00:00Z", rng.range(10, 22), rng.below(24));
    (duration, start)
}

// ---- YAML ----

fn yaml_string(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) && !text.is_empty() {
        text.to_owned()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn yaml_cond(cond: &Cond) -> String {
    let list = |items: &[String]| items.iter().map(|it| yaml_string(it)).collect::<Vec<_>>().join(", ");
    match cond {
        Cond::Eq(value) => yaml_string(value),
        Cond::Ne(value) => format!("{{ $ne: {} }}", yaml_string(value)),
        Cond::In(items) => format!("{{ $in: [{}] }}", list(items)),
        Cond::All(items) => format!("{{ $all: [{}] }}", list(items)),
        Cond::Glob(pattern) => format!("{{ $glob: {} }}", yaml_string(pattern)),
    }
}

fn yaml_rules(out: &mut String, rules: &[Rule], indent: &str) {
    for rule in rules {
        let _ = writeln!(out, "{indent}- subject: {}", rule.subject);
        let _ = writeln!(out, "{indent}  action: [{}]", rule.actions.join(", "));
        if rule.inverted {
            let _ = writeln!(out, "{indent}  inverted: true");
        }
        if !rule.conditions.is_empty() {
            let parts: Vec<String> =
                rule.conditions.iter().map(|(key, cond)| format!("{key}: {}", yaml_cond(cond))).collect();
            let _ = writeln!(out, "{indent}  conditions: {{ {} }}", parts.join(", "));
        }
    }
}

fn yaml_roles(roles: &[(String, Vec<Rule>)]) -> String {
    let mut out = String::from("roles:\n");
    for (slug, rules) in roles {
        let _ = writeln!(out, "  - slug: {slug}\n    name: {}\n    permissions:", yaml_string(&slug.replace('-', " ")));
        yaml_rules(&mut out, rules, "      ");
    }
    out
}

fn yaml_members(members: &[Member]) -> String {
    let (users, identities): (Vec<&Member>, Vec<&Member>) = members.iter().partition(|it| it.email.is_some());
    let mut out = String::new();
    for (key, list, name_key) in [("users", &users, "email"), ("identities", &identities, "name")] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{key}:");
        for member in list.iter() {
            let name = member.email.as_ref().unwrap_or(&member.name);
            let _ = writeln!(out, "  - {name_key}: {}\n    roles:", yaml_string(name));
            for (role, temporary) in &member.roles {
                match temporary {
                    None => {
                        let _ = writeln!(out, "      - {role}");
                    }
                    Some((duration, start)) => {
                        let _ = writeln!(out, "      - {{ role: {role}, duration: {duration}, start: \"{start}\" }}");
                    }
                }
            }
            if !member.privileges.is_empty() {
                let _ = writeln!(out, "    privileges:");
                for privilege in &member.privileges {
                    let _ = writeln!(out, "      - slug: {}", privilege.slug);
                    if let Some((duration, start)) = &privilege.temporary {
                        let _ = writeln!(out, "        duration: {duration}\n        start: \"{start}\"");
                    }
                    let _ = writeln!(out, "        permissions:");
                    yaml_rules(&mut out, &privilege.rules, "          ");
                }
            }
        }
    }
    out
}

// ---- HCL ----

fn hcl_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|it| format!("\"{it}\"")).collect::<Vec<_>>().join(", "))
}

fn hcl_cond(cond: &Cond) -> String {
    match cond {
        Cond::Eq(value) => format!("\"{value}\""),
        Cond::Ne(value) => format!("{{ ne = \"{value}\" }}"),
        Cond::In(items) => format!("{{ in = {} }}", hcl_list(items)),
        Cond::All(items) => format!("{{ all = {} }}", hcl_list(items)),
        Cond::Glob(pattern) => format!("glob(\"{pattern}\")"),
    }
}

fn hcl_rules(out: &mut String, rules: &[Rule], indent: &str) {
    for rule in rules {
        let actions: Vec<String> = rule.actions.iter().map(|it| it.to_string()).collect();
        let _ = writeln!(out, "{indent}permission {{");
        let _ = writeln!(out, "{indent}  subject = \"{}\"", rule.subject);
        let _ = writeln!(out, "{indent}  action  = {}", hcl_list(&actions));
        if rule.inverted {
            let _ = writeln!(out, "{indent}  inverted = true");
        }
        if !rule.conditions.is_empty() {
            let _ = writeln!(out, "{indent}  conditions {{");
            for (key, cond) in &rule.conditions {
                let _ = writeln!(out, "{indent}    {key} = {}", hcl_cond(cond));
            }
            let _ = writeln!(out, "{indent}  }}");
        }
        let _ = writeln!(out, "{indent}}}");
    }
}

fn hcl_roles(roles: &[(String, Vec<Rule>)]) -> String {
    let mut out = String::new();
    for (slug, rules) in roles {
        let _ = writeln!(out, "role \"{slug}\" {{\n  name = \"{}\"", slug.replace('-', " "));
        hcl_rules(&mut out, rules, "  ");
        let _ = writeln!(out, "}}\n");
    }
    out
}

fn hcl_members(members: &[Member]) -> String {
    let mut out = String::new();
    for member in members {
        match &member.email {
            Some(email) => {
                let _ = writeln!(out, "user \"{email}\" {{");
            }
            None => {
                let _ = writeln!(out, "identity \"{}\" {{", member.name);
            }
        }
        let permanent: Vec<String> =
            member.roles.iter().filter(|(_, temporary)| temporary.is_none()).map(|(role, _)| role.clone()).collect();
        if !permanent.is_empty() {
            let _ = writeln!(out, "  roles = {}", hcl_list(&permanent));
        }
        for (role, temporary) in &member.roles {
            if let Some((duration, start)) = temporary {
                let _ = writeln!(
                    out,
                    "  role \"{role}\" {{\n    duration = \"{duration}\"\n    start    = \"{start}\"\n  }}"
                );
            }
        }
        for privilege in &member.privileges {
            let _ = writeln!(out, "  privilege \"{}\" {{", privilege.slug);
            if let Some((duration, start)) = &privilege.temporary {
                let _ = writeln!(out, "    duration = \"{duration}\"\n    start    = \"{start}\"");
            }
            hcl_rules(&mut out, &privilege.rules, "    ");
            let _ = writeln!(out, "  }}");
        }
        let _ = writeln!(out, "}}\n");
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut size_name, mut seed, mut format, mut out) = ("large".to_string(), 1u64, "hcl".to_string(), None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => size_name = args.next().expect("--size small|medium|large"),
            "--seed" => seed = args.next().and_then(|it| it.parse().ok()).expect("--seed N"),
            "--format" => format = args.next().expect("--format hcl|yaml|mixed"),
            _ => out = Some(PathBuf::from(arg)),
        }
    }
    let Some(size) = size(&size_name) else {
        eprintln!("error: unknown size `{size_name}`; use small, medium or large");
        std::process::exit(2);
    };
    if !["hcl", "yaml", "mixed"].contains(&format.as_str()) {
        eprintln!("error: unknown format `{format}`; use hcl, yaml or mixed");
        std::process::exit(2);
    }
    let Some(out) = out else {
        eprintln!("usage: generate [--size small|medium|large] [--seed N] [--format hcl|yaml|mixed] DIR");
        std::process::exit(2);
    };
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("roles")).unwrap();
    std::fs::create_dir_all(out.join("members")).unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let world = World { teams: size.teams };

    let roles: Vec<(String, Vec<Rule>)> = (0..size.roles)
        .map(|index| {
            let count = rng.range(5, 40);
            (
                format!("role-{:03}-{}", index + 1, world.team(&mut rng)),
                (0..count).map(|_| world.rule(&mut rng)).collect(),
            )
        })
        .collect();
    // Privileges that recur across members.
    let pool: Vec<Vec<Rule>> = (0..300).map(|_| (0..rng.range(1, 8)).map(|_| world.rule(&mut rng)).collect()).collect();
    let predefined = ["viewer", "member", "no-access"];
    let members: Vec<Member> = (0..size.members)
        .map(|index| {
            let user = rng.chance(60);
            let mut assigned: Vec<(String, Option<(String, String)>)> = Vec::new();
            for _ in 0..rng.range(1, 3) {
                let role = if rng.chance(25) {
                    predefined[rng.below(predefined.len())].to_string()
                } else {
                    roles[rng.below(roles.len())].0.clone()
                };
                if assigned.iter().all(|(it, _)| *it != role) {
                    let window = rng.chance(10).then(|| temporary(&mut rng));
                    assigned.push((role, window));
                }
            }
            // Every member keeps one permanent role.
            if assigned.iter().all(|(_, window)| window.is_some()) {
                assigned[0].1 = None;
            }
            // Most members have no or one additional privilege; a few have up to six.
            let count = match rng.below(100) {
                0..45 => 0,
                45..70 => 1,
                70..82 => 2,
                82..90 => 3,
                90..95 => 4,
                95..98 => 5,
                _ => 6,
            };
            let privileges = (0..count)
                .map(|number| Privilege {
                    slug: format!("grant-{}", number + 1),
                    temporary: rng.chance(30).then(|| temporary(&mut rng)),
                    rules: if rng.chance(70) {
                        pool[rng.below(pool.len())].clone()
                    } else {
                        (0..rng.range(1, 8)).map(|_| world.rule(&mut rng)).collect()
                    },
                })
                .collect();
            Member {
                email: user.then(|| format!("user-{:05}@example.com", index + 1)),
                name: format!("svc-{:05}", index + 1),
                roles: assigned,
                privileges,
            }
        })
        .collect();

    let write = |path: &Path, text: String| std::fs::write(path, text).unwrap();
    let environments = ENVIRONMENTS.iter().map(|it| format!("\"{it}\"")).collect::<Vec<_>>().join(", ");
    write(
        &out.join("project.hcl"),
        format!(
            "project \"bench\" {{\n  catalog               = \"infisical-05db254d\"\n  environments          = [{environments}]\n  sensitiveEnvironments = [\"prod\"]\n}}\n"
        ),
    );
    let roles_in_hcl = format != "yaml";
    let members_in_hcl = format == "hcl";
    for (index, chunk) in roles.chunks(25).enumerate() {
        if roles_in_hcl {
            write(&out.join(format!("roles/roles-{:03}.hcl", index + 1)), hcl_roles(chunk));
        } else {
            write(&out.join(format!("roles/roles-{:03}.yaml", index + 1)), yaml_roles(chunk));
        }
    }
    for (index, chunk) in members.chunks(10).enumerate() {
        if members_in_hcl {
            write(&out.join(format!("members/members-{:04}.hcl", index + 1)), hcl_members(chunk));
        } else {
            write(&out.join(format!("members/members-{:04}.yaml", index + 1)), yaml_members(chunk));
        }
    }
    let users: Vec<&str> = members.iter().filter_map(|it| it.email.as_deref()).collect();
    let mut policies = String::from("accessPolicies:\n");
    for index in 0..size.access_policies {
        // Access requests guard one service's secrets, mostly in production.
        let team = world.team(&mut rng);
        let service = format!("svc-{:02}", rng.below(10) + 1);
        let hard = rng.chance(70);
        let environment = if rng.chance(80) { "prod" } else { "staging" };
        let _ = writeln!(
            policies,
            "  - name: access-{:02}\n    environment: {environment}\n    secretPath: /{team}/{service}/**\n    enforcementLevel: {}\n    allowedSelfApprovals: false",
            index + 1,
            if hard { "hard" } else { "soft" }
        );
        if !hard {
            let _ =
                writeln!(policies, "    bypassers: [{{ type: user, username: {} }}]", users[rng.below(users.len())]);
        }
        let _ = writeln!(policies, "    steps:");
        for _ in 0..rng.range(1, 2) {
            let approvers: Vec<String> = (0..rng.range(2, 4))
                .map(|_| format!("{{ type: user, username: {} }}", users[rng.below(users.len())]))
                .collect();
            let _ = writeln!(policies, "      - approvals: 1\n        approvers: [{}]", approvers.join(", "));
        }
    }
    let _ = writeln!(policies, "secretPolicies:");
    for index in 0..size.secret_policies {
        let _ = writeln!(
            policies,
            "  - name: changes-{:02}\n    environments: [prod]\n    secretPath: /{}/**\n    approvals: 1\n    allowedSelfApprovals: false\n    approvers: [{{ type: user, username: {} }}, {{ type: user, username: {} }}]",
            index + 1,
            world.team(&mut rng),
            users[rng.below(users.len())],
            users[rng.below(users.len())]
        );
    }
    write(&out.join("approvals.yaml"), policies);
    let rules: usize = roles.iter().map(|it| it.1.len()).sum::<usize>()
        + members.iter().flat_map(|it| &it.privileges).map(|it| it.rules.len()).sum::<usize>();
    eprintln!("wrote {} roles, {} members, {rules} rules to {}", roles.len(), members.len(), out.display());
}
