use serde_json::json;

use super::*;
use crate::testing::Rng;

fn rule(inverted: bool, actions: &[&str], conditions: Value) -> EvalRule {
    EvalRule {
        subject: "secrets".into(),
        actions: actions.iter().map(|it| it.to_string()).collect(),
        inverted,
        conditions: conditions.as_object().cloned().map(std::sync::Arc::new),
        origin: 0,
    }
}

fn allow(conditions: Value) -> EvalRule {
    rule(false, &["readValue"], conditions)
}

fn deny(conditions: Value) -> EvalRule {
    rule(true, &["readValue"], conditions)
}

fn group_for(rules: &[EvalRule]) -> Group {
    let members = (0..rules.len()).collect();
    Group::build(Catalog::builtin(), rules, "secrets", "readValue", members)
}

#[test]
fn an_allow_inside_a_broader_allow_is_redundant() {
    let rules = [
        allow(json!({ "environment": "prod", "secretPath": { "$glob": "/app/**" } })),
        allow(json!({ "environment": { "$in": ["prod", "dev"] } })),
    ];
    let group = group_for(&rules);
    assert_eq!(group.removal(&[0]), Outcome::Same { covering: vec![1] });
    let Outcome::Differs { witness, before: true, after: false } = group.removal(&[1]) else { panic!() };
    assert!(confirm(&rules, &[1], &group, &witness, true, false), "{witness}");
}

#[test]
fn a_deny_that_meets_no_allow_is_ineffective() {
    let rules = [allow(json!({ "environment": "prod" })), deny(json!({ "environment": "dev" }))];
    let group = group_for(&rules);
    assert_eq!(group.removal(&[1]), Outcome::Same { covering: vec![] });

    let rules = [allow(json!({ "environment": "prod" })), deny(json!({ "secretPath": { "$glob": "/app/*" } }))];
    let group = group_for(&rules);
    let Outcome::Differs { witness, before: false, after: true } = group.removal(&[1]) else { panic!() };
    assert!(confirm(&rules, &[1], &group, &witness, false, true));
    let Request::Object(fields) = &witness else { panic!() };
    assert_eq!(fields[0], ("environment".to_string(), Some(json!("prod"))));
}

#[test]
fn type_level_checks_count() {
    // The only allow: removing it changes the type-level answer even where no object differs.
    let rules = [allow(json!({ "environment": "prod" }))];
    let group = group_for(&rules);
    assert_eq!(
        group.removal(&[0]).clone(),
        Outcome::Differs { witness: Request::TypeLevel, before: true, after: false }
    );
    // A conditional deny is skipped at type level; an unconditional one decides.
    let rules = [allow(json!({})), deny(json!({ "environment": "dev" }))];
    assert!(matches!(group_of(&rules).removal(&[1]), Outcome::Differs { witness: Request::Object(_), .. }));
}

fn group_of(rules: &[EvalRule]) -> Group {
    let mut rules = rules.to_vec();
    for rule in &mut rules {
        if rule.conditions.as_ref().is_some_and(|it| it.is_empty()) {
            rule.conditions = None;
        }
    }
    group_for(&rules)
}

#[test]
fn tags_are_sets() {
    let rules =
        [allow(json!({ "secretTags": { "$all": ["a", "b"] } })), allow(json!({ "secretTags": { "$in": ["a"] } }))];
    let group = group_for(&rules);
    assert_eq!(group.removal(&[0]), Outcome::Same { covering: vec![1] });
    let Outcome::Differs { witness, .. } = group.removal(&[1]) else { panic!() };
    assert_eq!(witness.to_string(), "secretTags=[a]");
}

#[test]
fn ne_accepts_an_absent_field() {
    // `$ne` also matches objects without the field; `$in` does not.
    let rules = [allow(json!({ "secretName": { "$ne": "X" } })), allow(json!({ "secretName": { "$in": ["A", "B"] } }))];
    let group = group_for(&rules);
    assert_eq!(group.removal(&[1]), Outcome::Same { covering: vec![0] });
    let Outcome::Differs { witness, .. } = group.removal(&[0]) else { panic!() };
    assert!(confirm(&rules, &[0], &group, &witness, true, false), "{witness}");
}

#[test]
fn globs_are_exact_languages() {
    let rules =
        [allow(json!({ "secretPath": { "$glob": "/app/*" } })), allow(json!({ "secretPath": { "$glob": "/app/**" } }))];
    let group = group_for(&rules);
    assert_eq!(group.removal(&[0]), Outcome::Same { covering: vec![1] });
    let Outcome::Differs { witness, .. } = group.removal(&[1]) else { panic!() };
    assert!(confirm(&rules, &[1], &group, &witness, true, false), "{witness}");
}

#[test]
fn metadata_and_templates_are_unknown() {
    let rules = [allow(json!({ "secretPath": { "$glob": "/users/{{identity.id}}/**" } }))];
    assert!(matches!(group_for(&rules).removal(&[0]), Outcome::Unknown(_)));
}

const ENVIRONMENTS: &[&str] = &["dev", "prod", "qa"];
const GLOBS: &[&str] = &["/app/**", "/app/*", "/**", "/app/{a,b}/**", "/*/db", "/app/a", "/app/**/x"];
const PATHS: &[&str] = &["/", "/app", "/app/a", "/app/b/x", "/app/c", "/x/db", "/app/a/b/x", "/app/a/x", "/q"];
const TAGS: &[&str] = &["a", "b", "c"];

fn random_condition(rng: &mut Rng) -> Value {
    let mut conditions = Map::new();
    if rng.chance(60) {
        let value = match rng.next() % 3 {
            0 => json!(rng.pick(ENVIRONMENTS)),
            1 => json!({ "$ne": rng.pick(ENVIRONMENTS) }),
            _ => json!({ "$in": [rng.pick(ENVIRONMENTS), rng.pick(ENVIRONMENTS)] }),
        };
        conditions.insert("environment".into(), value);
    }
    if rng.chance(50) {
        let value = match rng.next() % 3 {
            0 => json!({ "$glob": rng.pick(GLOBS) }),
            1 => json!(rng.pick(PATHS)),
            _ => json!({ "$in": [rng.pick(PATHS), rng.pick(PATHS)] }),
        };
        conditions.insert("secretPath".into(), value);
    }
    if rng.chance(30) {
        let value = match rng.next() % 2 {
            0 => json!({ "$in": [rng.pick(TAGS)] }),
            _ => json!({ "$all": [rng.pick(TAGS), rng.pick(TAGS)] }),
        };
        conditions.insert("secretTags".into(), value);
    }
    Value::Object(conditions)
}

fn random_requests(rng: &mut Rng, count: usize) -> Vec<Map<String, Value>> {
    (0..count)
        .map(|_| {
            let mut object = Map::new();
            if !rng.chance(5) {
                object.insert("environment".into(), json!(rng.pick(ENVIRONMENTS)));
            }
            // `$glob` throws on an absent path; requests always name it.
            object.insert("secretPath".into(), json!(rng.pick(PATHS)));
            if !rng.chance(10) {
                let tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(40)).collect();
                object.insert("secretTags".into(), json!(tags));
            }
            object
        })
        .collect()
}

/// Every verdict agrees with direct evaluation: a "same" verdict on sampled requests, a "differs" verdict on
/// its witness.
#[test]
fn verdicts_agree_with_evaluation() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut same = 0;
    let mut differs = 0;
    for _ in 0..300 {
        let count = 1 + (rng.next() % 5) as usize;
        let rules: Vec<EvalRule> = (0..count)
            .map(|_| {
                let conditions = random_condition(&mut rng);
                let conditions = if conditions.as_object().unwrap().is_empty() { Value::Null } else { conditions };
                rule(rng.chance(30), &["readValue"], conditions)
            })
            .collect();
        let group = group_for(&rules);
        let removed = (rng.next() % count as u64) as usize;
        match group.removal(&[removed]) {
            Outcome::Same { .. } => {
                same += 1;
                let kept: Vec<EvalRule> =
                    rules.iter().enumerate().filter(|(at, _)| *at != removed).map(|(_, it)| it.clone()).collect();
                for object in random_requests(&mut rng, 200) {
                    let with = eval::can(&rules, "readValue", "secrets", Some(&object));
                    let without = eval::can(&kept, "readValue", "secrets", Some(&object));
                    // Requests on which evaluation throws are outside the model.
                    if let (Ok(with), Ok(without)) = (with, without) {
                        assert_eq!(with.allowed, without.allowed, "{rules:#?} without {removed} on {object:?}");
                    }
                }
            }
            Outcome::Differs { witness, before, after } => {
                differs += 1;
                // A witness without a field a `$glob` reads makes Infisical's evaluation throw, with or without
                // the removed rule: such requests are outside the model (the lints only show witnesses that
                // evaluate both ways).
                let object = witness.object();
                let kept: Vec<EvalRule> =
                    rules.iter().enumerate().filter(|(at, _)| *at != removed).map(|(_, it)| it.clone()).collect();
                if eval::can(&rules, "readValue", "secrets", object.as_ref()).is_err()
                    || eval::can(&kept, "readValue", "secrets", object.as_ref()).is_err()
                {
                    continue;
                }
                assert!(confirm(&rules, &[removed], &group, &witness, before, after), "{rules:#?} {removed} {witness}");
            }
            Outcome::Unknown(why) => panic!("unknown: {why}"),
        }
    }
    assert!(same > 30 && differs > 30, "same {same}, differs {differs}");
}

/// `count` rules on `readValue` with random conditions (none at all for some), `deny_percent` of them denies.
fn random_rules(rng: &mut Rng, count: usize, deny_percent: usize) -> Vec<EvalRule> {
    (0..count)
        .map(|_| {
            let conditions = random_condition(rng);
            let conditions = if conditions.as_object().unwrap().is_empty() { Value::Null } else { conditions };
            rule(rng.chance(deny_percent), &["readValue"], conditions)
        })
        .collect()
}

/// Answers through a [`Memo`] (regions over the run's seeded universes, remembered per rule across groups)
/// agree with groups built afresh over universes of their own; rules the seed never saw fall back to
/// those.
#[test]
fn remembered_regions_agree_with_fresh_groups() {
    let catalog = Catalog::builtin();
    let mut rng = Rng(0x5eed_0000_0000_0042);
    let mut pool = random_rules(&mut rng, 40, 30);
    // The last rules are not announced, as a rendered template would not be; two of them name a tag the
    // run's table does not know.
    pool.push(allow(json!({ "secretTags": { "$in": ["z"] }, "environment": "prod" })));
    pool.push(deny(json!({ "secretTags": { "$all": ["a", "z"] } })));
    reset();
    seed(catalog, pool[..30].iter().map(|it| (it.subject.as_str(), it.conditions.as_deref())));
    let mut memo = Memo::default();
    let group = memo.group("secrets", "readValue");
    let (mut same, mut differs) = (0, 0);
    for _ in 0..400 {
        let count = 1 + (rng.next() % 6) as usize;
        let rules: Vec<&EvalRule> = (0..count).map(|_| rng.pick(&pool)).collect();
        let owned: Vec<EvalRule> = rules.iter().map(|it| (*it).clone()).collect();
        let keys: Vec<u32> = rules.iter().map(|it| memo.key(it)).collect();
        let fresh = group_for(&owned);
        let position = (rng.next() % count as u64) as usize;
        let removal = !rules[position].inverted || rng.chance(50);
        let remembered = if removal {
            (fresh.removal(&[position]), memo.removal(catalog, group, &rules, keys, vec![position]))
        } else {
            (fresh.meets_allow(position), memo.meets_allow(catalog, group, &rules, keys, position))
        };
        match remembered {
            (Outcome::Same { covering: fresh }, Outcome::Same { covering }) => {
                same += 1;
                assert_eq!(fresh, covering, "{owned:#?} at {position}");
            }
            (Outcome::Differs { before: b, after: a, .. }, Outcome::Differs { witness, before, after }) => {
                differs += 1;
                assert_eq!((b, a), (before, after), "{owned:#?} at {position}");
                // A removal's witness is answered differently without the rule (when it evaluates at all).
                let object = witness.object();
                if removal && eval::can(&owned, "readValue", "secrets", object.as_ref()).is_ok() {
                    assert!(confirm(&owned, &[position], &fresh, &witness, before, after), "{owned:#?} at {position}");
                }
            }
            (fresh, remembered) => panic!("{fresh:?} and {remembered:?} for {owned:#?} at {position}"),
        }
    }
    assert!(same > 50 && differs > 50, "same {same}, differs {differs}");
}

/// A deny meets a group's allows exactly when it meets one of them: [`Memo::deny_meets`], pair by pair,
/// agrees with [`Group::meets_allow`] over the whole group wherever the group decides.
#[test]
fn a_deny_meets_the_allows_of_a_group_exactly_when_it_meets_one_of_them() {
    let catalog = Catalog::builtin();
    let mut rng = Rng(0x5eed_0000_0000_0043);
    let pool = random_rules(&mut rng, 40, 40);
    reset();
    seed(catalog, pool.iter().map(|it| (it.subject.as_str(), it.conditions.as_deref())));
    let mut memo = Memo::default();
    let group = memo.group("secrets", "readValue");
    let (mut meets, mut not) = (0, 0);
    for _ in 0..400 {
        let count = 1 + (rng.next() % 6) as usize;
        // Allows first, then denies, as Infisical orders a member's rules.
        let mut rules: Vec<EvalRule> = (0..count).map(|_| rng.pick(&pool).clone()).collect();
        rules.sort_by_key(|it| it.inverted);
        let Some(deny) = rules.iter().position(|it| it.inverted) else { continue };
        let keys: Vec<u32> = rules.iter().map(|it| memo.key(it)).collect();
        let whole = group_for(&rules).meets_allow(deny);
        let by_pairs = (0..deny)
            .any(|allow| memo.deny_meets(catalog, group, (&rules[deny], keys[deny]), (&rules[allow], keys[allow])));
        match whole {
            Outcome::Same { .. } => not += 1,
            Outcome::Differs { .. } => meets += 1,
            Outcome::Unknown(why) => panic!("unknown: {why}"),
        }
        assert_eq!(by_pairs, !matches!(whole, Outcome::Same { .. }), "{rules:#?} at {deny}");
    }
    assert!(meets > 30 && not > 30, "meets {meets}, not {not}");
}

/// Another deny the model cannot express (a template) leaves a deny's pairs decidable: the deny below still
/// meets no allow, where the whole group could not say.
#[test]
fn an_undecidable_deny_does_not_hide_an_ineffective_one() {
    let catalog = Catalog::builtin();
    let rules = [
        allow(json!({ "environment": "prod" })),
        deny(json!({ "environment": "dev" })),
        deny(json!({ "secretPath": { "$glob": "/users/{{identity.id}}/**" } })),
    ];
    assert!(matches!(group_for(&rules).meets_allow(1), Outcome::Unknown(_)));
    let mut memo = Memo::default();
    let group = memo.group("secrets", "readValue");
    let keys: Vec<u32> = rules.iter().map(|it| memo.key(it)).collect();
    assert!(!memo.deny_meets(catalog, group, (&rules[1], keys[1]), (&rules[0], keys[0])));
    // The undecidable deny itself counts as meeting: a lint stays silent about it.
    assert!(memo.deny_meets(catalog, group, (&rules[2], keys[2]), (&rules[0], keys[0])));
}

/// Rules share a memo key exactly when whether they deny and their conditions' JSON texts agree.
#[test]
fn memo_keys_follow_the_conditions_text() {
    let rules = [
        allow(json!({ "environment": "prod", "secretPath": { "$glob": "/app/**" } })),
        allow(json!({ "environment": "prod", "secretPath": { "$glob": "/app/**" } })),
        // Another key order, another text.
        allow(json!({ "secretPath": { "$glob": "/app/**" }, "environment": "prod" })),
        deny(json!({ "environment": "prod", "secretPath": { "$glob": "/app/**" } })),
        allow(json!({ "environment": { "$in": ["prod", "dev"] } })),
        allow(json!({ "environment": { "$in": ["dev", "prod"] } })),
        allow(json!({ "n": 1 })),
        allow(json!({ "n": 1.0 })),
        allow(json!({ "n": -1 })),
        allow(json!({ "n": [1, { "a": null }] })),
        allow(json!({ "n": [1, { "a": false }] })),
        allow(json!({})),
        allow(Value::Null),
        deny(Value::Null),
    ];
    let mut memo = Memo::default();
    let keys: Vec<u32> = rules.iter().map(|rule| memo.key(rule)).collect();
    for (a, first) in rules.iter().enumerate() {
        for (b, second) in rules.iter().enumerate() {
            let text = |rule: &EvalRule| rule.conditions.as_deref().map(|it| serde_json::to_string(it).unwrap());
            let same_text = first.inverted == second.inverted && text(first) == text(second);
            assert_eq!(keys[a] == keys[b], same_text, "rules {a} and {b}");
        }
    }
    assert_eq!(keys[0], keys[1]);
}
