//! Rule scopes as sets of requests, decided exactly.
//!
//! For one subject and action, a request is a type-level check (no object) or an object: one value per
//! condition field. A string field holds a string or is absent; a tag field (`secretTags`) holds a list of
//! strings or is absent. A rule's conditions describe a *product* of per-field sets: for strings a regular
//! language ([`Lang`]: `$eq`, `$ne`, `$in` are finite or co-finite, `$glob` is picomatch's language) plus
//! whether the absent value is in; for tags, which combinations of the tag literals the rules mention are
//! present, as a truth table.
//!
//! Rules are consulted as Infisical does (the last matching rule decides), so what a list of rules allows is
//! a union of products minus products. The questions the lints ask are answered by walking the rules from
//! the highest priority down while keeping the still-undecided part of a region as a list of disjoint
//! products; every "no" comes with a concrete witness request, which is then re-evaluated with
//! [`crate::eval::can`] before anyone sees it.
//!
//! Secret paths range over the paths requests carry ([`secret_paths`]): normalized, without control
//! characters. Every other string field ranges over all strings.
//!
//! Metadata conditions (`$elemMatch`) and unrendered templates are not modelled: a group containing one is
//! answered [`Outcome::Unknown`], and the lints stay silent rather than guess.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::catalog::{Catalog, ConditionKind};
use crate::eval::{self, EvalRule};
use crate::glob;
use crate::lang::{FxBuild, Lang, Unsupported};

/// The most disjoint pieces a region may be split into before a question is given up.
const PIECE_LIMIT: usize = 4_096;
/// The most tag literals one field may mention (the truth table has 2^n rows).
const ATOM_LIMIT: usize = 12;

mod universe;

use universe::{Atom, Bits, Universe};

/// A set of values of one field: signatures of a string field's [`Universe`], or rows of a tag field's
/// truth table (row `m` is the tag lists whose members among the field's tags are the bits of `m`), and
/// whether the absent value is in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Set {
    rows: Bits,
    absent: bool,
}

impl Set {
    fn intersect(&self, other: &Set) -> Set {
        Set { rows: self.rows.and(&other.rows), absent: self.absent && other.absent }
    }

    fn minus(&self, other: &Set) -> Set {
        Set { rows: self.rows.and_not(&other.rows), absent: self.absent && !other.absent }
    }

    fn is_empty(&self) -> Result<bool, Unsupported> {
        Ok(!self.absent && self.rows.is_empty())
    }

    /// Whether `self` and `other` share a value: `!self.intersect(other).is_empty()`, without building it.
    fn meets(&self, other: &Set) -> bool {
        (self.absent && other.absent) || self.rows.meets(&other.rows)
    }

    /// Whether `other` holds every value of `self`: `self.minus(other).is_empty()`, without building it.
    fn within(&self, other: &Set) -> bool {
        (!self.absent || other.absent) && other.rows.is_superset(&self.rows)
    }

    /// A value of the set: present values first.
    fn witness(&self, field: &Field) -> Result<Option<Value>, Unsupported> {
        let Some(row) = self.rows.first() else {
            return if self.absent { Ok(None) } else { Err(Unsupported("an empty set has no witness".into())) };
        };
        Ok(Some(match &field.values {
            Values::Strings(universe) => Value::String(universe.witness(row).to_owned()),
            Values::Tags(atoms) => Value::Array(
                atoms
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| row & (1 << bit) != 0)
                    .map(|(_, atom)| Value::String(atom.clone()))
                    .collect(),
            ),
        }))
    }
}

/// A product of per-field sets, in the group's field order.
#[derive(Clone, Debug)]
struct Product(Vec<Set>);

impl Product {
    fn intersect(&self, other: &Product) -> Product {
        Product(self.0.iter().zip(&other.0).map(|(a, b)| a.intersect(b)).collect())
    }

    fn is_empty(&self) -> Result<bool, Unsupported> {
        for set in &self.0 {
            if set.is_empty()? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the products share a request: `!self.intersect(other).is_empty()`, without building it.
    fn meets(&self, other: &Product) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a.meets(b))
    }

    /// `self` without `other`, as disjoint pieces, appended to `out` (`self` itself when they do not meet).
    fn minus_into(self, other: &Product, out: &mut Vec<Product>) {
        if !self.meets(other) {
            out.push(self);
            return;
        }
        // The fields before `field` are narrowed to `other`'s as the walk goes; the rest are still `self`'s.
        let mut prefix = self;
        let last = prefix.0.len().saturating_sub(1);
        for field in 0..prefix.0.len() {
            if !prefix.0[field].within(&other.0[field]) {
                let rest = prefix.0[field].minus(&other.0[field]);
                let mut piece = prefix.clone();
                piece.0[field] = rest;
                out.push(piece);
            }
            if field < last {
                prefix.0[field] = prefix.0[field].intersect(&other.0[field]);
            }
        }
    }
}

/// One condition field of a group.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// Whether objects of the subject have this field at all (a condition on a field Infisical never sets
    /// can only see it absent).
    exists: bool,
    values: Values,
}

/// How a field's values are cut into pieces.
#[derive(Clone, Debug)]
enum Values {
    /// A string field: the signatures of its universe.
    Strings(Arc<Universe>),
    /// A tag field: the tags the rules mention.
    Tags(Vec<String>),
}

impl Field {
    fn rows(&self) -> usize {
        match &self.values {
            Values::Strings(universe) => universe.len(),
            Values::Tags(atoms) => 1 << atoms.len(),
        }
    }
}

/// A request: a type-level check, or an object with a value (or none) per field.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    TypeLevel,
    Object(Vec<(String, Option<Value>)>),
}

impl Request {
    /// The object CASL would be given.
    pub fn object(&self) -> Option<Map<String, Value>> {
        match self {
            Request::TypeLevel => None,
            Request::Object(fields) => {
                Some(fields.iter().filter_map(|(key, value)| Some((key.clone(), value.clone()?))).collect())
            }
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::TypeLevel => f.write_str("a check without an object (type level)"),
            Request::Object(fields) if fields.is_empty() => f.write_str("any object"),
            Request::Object(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(key, value)| match value {
                        None => format!("{key} absent"),
                        Some(Value::String(text)) => format!("{key}={}", show(text)),
                        Some(Value::Array(items)) => {
                            let items: Vec<String> =
                                items.iter().map(|it| show(it.as_str().unwrap_or_default())).collect();
                            format!("{key}=[{}]", items.join(","))
                        }
                        Some(other) => format!("{key}={other}"),
                    })
                    .collect();
                f.write_str(&parts.join(" "))
            }
        }
    }
}

/// A value as shown in a witness: bare when plain, JSON-quoted otherwise.
fn show(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-*:@".contains(c))
        && !text.starts_with(['-']);
    if plain { text.to_owned() } else { Value::String(text.to_owned()).to_string() }
}

/// The rules of one subject and action, in evaluation order (the last matching rule decides).
#[derive(Clone, Debug)]
pub struct Group {
    pub subject: String,
    pub action: String,
    /// Shared between the groups modelled over the same fields.
    pub fields: Arc<[Field]>,
    /// Indices into the rule list the group was built from.
    pub members: Vec<usize>,
    inverted: Vec<bool>,
    unconditional: Vec<bool>,
    /// `None` when the group cannot be modelled; the reason.
    regions: Result<Vec<Arc<Product>>, String>,
}

/// A group's fields (shared between the groups modelled over the same fields) and the region of each of
/// its rules.
type Model = (Arc<[Field]>, Vec<Arc<Product>>);

/// The answer to a question about a group.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The answers never differ. `covering` lists the rules (indices into the rule list) that answer
    /// instead, where that is meaningful.
    Same { covering: Vec<usize> },
    /// They differ on `witness`: the answer with and without the change.
    Differs { witness: Request, before: bool, after: bool },
    /// The question could not be decided (metadata conditions, templates, limits).
    Unknown(String),
}

impl Group {
    pub fn build<R: Borrow<EvalRule>>(
        catalog: &Catalog,
        rules: &[R],
        subject: &str,
        action: &str,
        members: Vec<usize>,
    ) -> Group {
        let sources = members.clone();
        Group::build_over(catalog, rules, subject, action, members, &sources)
    }

    /// The groups of several actions of one subject over the same fields, so their regions can be compared.
    pub fn family(catalog: &Catalog, rules: &[EvalRule], subject: &str, actions: &[&str]) -> Vec<Group> {
        let members = |action: &str| -> Vec<usize> {
            (0..rules.len())
                .filter(|&at| rules[at].subject == subject && rules[at].actions.iter().any(|it| it == action))
                .collect()
        };
        let sources: Vec<usize> = actions.iter().flat_map(|action| members(action)).collect();
        actions
            .iter()
            .map(|action| Group::build_over(catalog, rules, subject, action, members(action), &sources))
            .collect()
    }

    /// The group of `members` (indices into `rules`), over the fields the rules at `sources` mention: groups
    /// built over the same sources can be compared.
    pub fn build_over<R: Borrow<EvalRule>>(
        catalog: &Catalog,
        rules: &[R],
        subject: &str,
        action: &str,
        members: Vec<usize>,
        sources: &[usize],
    ) -> Group {
        let model = model(catalog, rules, subject, &members, sources)
            .map(|(fields, regions)| (fields.into(), regions.into_iter().map(Arc::new).collect()));
        Group::assemble(rules, subject, action, members, model)
    }

    fn assemble<R: Borrow<EvalRule>>(
        rules: &[R],
        subject: &str,
        action: &str,
        members: Vec<usize>,
        model: Result<Model, String>,
    ) -> Group {
        let inverted = members.iter().map(|&at| rules[at].borrow().inverted).collect();
        let unconditional = members.iter().map(|&at| rules[at].borrow().conditions.is_none()).collect();
        let (fields, regions) = match model {
            Ok((fields, regions)) => (fields, Ok(regions)),
            Err(why) => (Arc::from([]), Err(why)),
        };
        Group {
            subject: subject.to_owned(),
            action: action.to_owned(),
            fields,
            members,
            inverted,
            unconditional,
            regions,
        }
    }

    /// Whether the rule at `position` is a deny.
    pub fn is_inverted(&self, position: usize) -> bool {
        self.inverted[position]
    }

    /// Whether the group could be modelled.
    pub fn unknown(&self) -> Option<&str> {
        self.regions.as_ref().err().map(String::as_str)
    }

    /// What changes when the rules at `removed` (positions in `members`) are taken out.
    pub fn removal(&self, removed: &[usize]) -> Outcome {
        match self.removal_inner(removed) {
            Ok(outcome) => outcome,
            Err(Unsupported(why)) => Outcome::Unknown(why),
        }
    }

    fn removal_inner(&self, removed: &[usize]) -> Result<Outcome, Unsupported> {
        let regions = self.regions.as_ref().map_err(|why| Unsupported(why.clone()))?;
        let keep: Vec<usize> = (0..self.members.len()).filter(|it| !removed.contains(it)).collect();
        let before = self.type_level(&(0..self.members.len()).collect::<Vec<_>>());
        let after = self.type_level(&keep);
        if before != after {
            return Ok(Outcome::Differs { witness: Request::TypeLevel, before, after });
        }
        let mut covering = BTreeSet::new();
        for &position in removed {
            // Where the removed rule decides: its region minus every rule of higher priority. A kept rule
            // that takes part of it away answers there instead.
            let mut decided = vec![Product::clone(&regions[position])];
            for (higher, region) in regions.iter().enumerate().skip(position + 1) {
                let mut takes = false;
                for piece in &decided {
                    if piece.meets(region) {
                        takes = true;
                        break;
                    }
                }
                if takes {
                    if !removed.contains(&higher) {
                        covering.insert(self.members[higher]);
                    }
                    decided = subtract(decided, region)?;
                }
            }
            let lower: Vec<usize> = keep.iter().copied().filter(|it| *it < position).collect();
            let wanted = !self.inverted[position];
            match self.walk(decided, &lower, wanted)? {
                Walk::Found(witness) => {
                    return Ok(Outcome::Differs { witness: self.request(&witness)?, before: wanted, after: !wanted });
                }
                Walk::Never(rules) => covering.extend(rules.into_iter().map(|it| self.members[it])),
            }
        }
        Ok(Outcome::Same { covering: covering.into_iter().collect() })
    }

    /// Walks `rules` (positions, ascending) from the highest priority down over `region`, looking for a
    /// request the rules answer differently from `wanted` (no rule matching counts as a deny). Returns that
    /// request, or the rules that answered `wanted` somewhere in the region.
    fn walk(&self, mut region: Vec<Product>, rules: &[usize], wanted: bool) -> Result<Walk, Unsupported> {
        let regions = self.regions.as_ref().map_err(|why| Unsupported(why.clone()))?;
        let mut answering = Vec::new();
        for &position in rules.iter().rev() {
            if region.is_empty() {
                break;
            }
            let answer = !self.inverted[position];
            let mut hit = None;
            if let Some(piece) = region.iter().find(|piece| piece.meets(&regions[position])) {
                hit = Some(piece.intersect(&regions[position]));
            }
            let Some(hit) = hit else { continue };
            if answer != wanted {
                return Ok(Walk::Found(hit));
            }
            answering.push(position);
            region = subtract(region, &regions[position])?;
        }
        match region.into_iter().next() {
            // Requests no rule matches are denied.
            Some(rest) if wanted => Ok(Walk::Found(rest)),
            _ => Ok(Walk::Never(answering)),
        }
    }

    /// CASL's type-level answer with only the rules at `positions`.
    fn type_level(&self, positions: &[usize]) -> bool {
        for &position in positions.iter().rev() {
            match (self.unconditional[position], self.inverted[position]) {
                (true, inverted) => return !inverted,
                (false, false) => return true,
                (false, true) => continue,
            }
        }
        false
    }

    fn request(&self, product: &Product) -> Result<Request, Unsupported> {
        let mut fields = Vec::new();
        for (field, set) in self.fields.iter().zip(&product.0) {
            fields.push((field.name.clone(), set.witness(field)?));
        }
        Ok(Request::Object(fields))
    }

    /// A request both rules (positions in `members`) match, if there is one.
    pub fn overlap(&self, first: usize, second: usize) -> Result<Option<Request>, String> {
        let regions = self.regions.as_ref().map_err(Clone::clone)?;
        let both = regions[first].intersect(&regions[second]);
        match both.is_empty() {
            Ok(true) => Ok(None),
            Ok(false) => self.request(&both).map(Some).map_err(|it| it.0),
            Err(Unsupported(why)) => Err(why),
        }
    }
}

impl Group {
    /// The part of `region` the group allows and the part it denies, as disjoint pieces.
    fn split(&self, region: Vec<Product>) -> Result<(Vec<Product>, Vec<Product>), Unsupported> {
        let regions = self.regions.as_ref().map_err(|why| Unsupported(why.clone()))?;
        let (mut allowed, mut denied) = (Vec::new(), Vec::new());
        let mut rest = region;
        for position in (0..self.members.len()).rev() {
            if rest.is_empty() {
                break;
            }
            let target = if self.inverted[position] { &mut denied } else { &mut allowed };
            for piece in &rest {
                if piece.meets(&regions[position]) {
                    target.push(piece.intersect(&regions[position]));
                }
            }
            rest = subtract(rest, &regions[position])?;
            if allowed.len() + denied.len() > PIECE_LIMIT {
                return Err(Unsupported(format!("more than {PIECE_LIMIT} pieces")));
            }
        }
        denied.extend(rest);
        Ok((allowed, denied))
    }

    /// A request some group of `these` allows and every group of `others` denies (all built over the same
    /// sources).
    pub fn any_allowed_beyond(these: &[&Group], others: &[&Group]) -> Outcome {
        let Some(first) = these.first() else { return Outcome::Same { covering: Vec::new() } };
        let inner = || -> Result<Option<Product>, Unsupported> {
            let everything = Product(first.fields.iter().map(full).collect());
            let mut region = Vec::new();
            for group in these {
                region.extend(group.split(vec![everything.clone()])?.0);
            }
            for other in others {
                region = other.split(region)?.1;
            }
            Ok(region.into_iter().next())
        };
        match inner() {
            Ok(None) => Outcome::Same { covering: Vec::new() },
            Ok(Some(piece)) => match first.request(&piece) {
                Ok(witness) => Outcome::Differs { witness, before: true, after: false },
                Err(Unsupported(why)) => Outcome::Unknown(why),
            },
            Err(Unsupported(why)) => Outcome::Unknown(why),
        }
    }

    /// CASL's answer to a check without an object.
    pub fn allows_type_level(&self) -> bool {
        self.type_level(&(0..self.members.len()).collect::<Vec<_>>())
    }

    /// A request this group allows and every group of `others` denies (all built with [`Group::family`]).
    pub fn allowed_beyond(&self, others: &[&Group]) -> Outcome {
        let inner = || -> Result<Option<Product>, Unsupported> {
            let everything = Product(self.fields.iter().map(full).collect());
            let (mut region, _) = self.split(vec![everything])?;
            for other in others {
                let (_, denied) = other.split(region)?;
                region = denied;
            }
            Ok(region.into_iter().next())
        };
        match inner() {
            Ok(None) => Outcome::Same { covering: Vec::new() },
            Ok(Some(piece)) => match self.request(&piece) {
                Ok(witness) => Outcome::Differs { witness, before: true, after: false },
                Err(Unsupported(why)) => Outcome::Unknown(why),
            },
            Err(Unsupported(why)) => Outcome::Unknown(why),
        }
    }

    /// The first field whose condition no value satisfies in the rule at `position`, if any.
    pub fn empty_field(&self, position: usize) -> Result<Option<String>, String> {
        let regions = self.regions.as_ref().map_err(Clone::clone)?;
        for (field, set) in self.fields.iter().zip(&regions[position].0) {
            if set.is_empty().map_err(|it| it.0)? {
                return Ok(Some(field.name.clone()));
            }
        }
        Ok(None)
    }

    /// A request the rule at `position` matches that some allow of the group matches too: for a deny,
    /// whether it removes anything from what the group's allows grant (type-level checks included).
    pub fn meets_allow(&self, position: usize) -> Outcome {
        let allows: Vec<usize> = (0..self.members.len()).filter(|it| !self.inverted[*it]).collect();
        if self.unconditional[position] && !allows.is_empty() {
            return Outcome::Differs { witness: Request::TypeLevel, before: false, after: true };
        }
        let inner = || -> Result<Outcome, Unsupported> {
            let regions = self.regions.as_ref().map_err(|why| Unsupported(why.clone()))?;
            Ok(match self.walk(vec![Product::clone(&regions[position])], &allows, false)? {
                Walk::Found(piece) => Outcome::Differs { witness: self.request(&piece)?, before: false, after: true },
                Walk::Never(_) => Outcome::Same { covering: Vec::new() },
            })
        };
        inner().unwrap_or_else(|Unsupported(why)| Outcome::Unknown(why))
    }

    /// Whether every object the rule at `position` matches is matched by one of the rules at `others`.
    pub fn covered_by(&self, position: usize, others: &[usize]) -> Result<bool, String> {
        let regions = self.regions.as_ref().map_err(Clone::clone)?;
        let mut rest = vec![Product::clone(&regions[position])];
        for &other in others {
            rest = subtract(rest, &regions[other]).map_err(|it| it.0)?;
            if rest.is_empty() {
                return Ok(true);
            }
        }
        Ok(rest.is_empty())
    }

    /// Whether the rule at `position` accepts `value` for the string field `field`; `None` when the field is
    /// not one of the group's string fields (no rule names it) or the value is outside its domain.
    pub fn accepts(&self, position: usize, field: &str, value: &str) -> Option<bool> {
        let regions = self.regions.as_ref().ok()?;
        let index = self.fields.iter().position(|it| it.name == field)?;
        let Values::Strings(universe) = &self.fields[index].values else { return None };
        let signature = universe.signature_of(value)?;
        Some(regions[position].0[index].rows.contains(signature))
    }

    /// Whether the rule at `position` accepts every present value of the field `field` (true when no rule
    /// of the group names the field).
    pub fn accepts_every_value(&self, position: usize, field: &str) -> bool {
        let Ok(regions) = self.regions.as_ref() else { return false };
        let Some(index) = self.fields.iter().position(|it| it.name == field) else { return true };
        regions[position].0[index].rows.is_superset(&full(&self.fields[index]).rows)
    }
}

enum Walk {
    Found(Product),
    Never(Vec<usize>),
}

fn subtract(region: Vec<Product>, other: &Product) -> Result<Vec<Product>, Unsupported> {
    let mut out = Vec::with_capacity(region.len());
    for piece in region {
        piece.minus_into(other, &mut out);
        if out.len() > PIECE_LIMIT {
            return Err(Unsupported(format!("more than {PIECE_LIMIT} pieces")));
        }
    }
    Ok(out)
}

/// The fields of a group and the region of each of its rules.
fn model<R: Borrow<EvalRule>>(
    catalog: &Catalog,
    rules: &[R],
    subject: &str,
    members: &[usize],
    sources: &[usize],
) -> Result<(Vec<Field>, Vec<Product>), String> {
    let definition = catalog.subject(subject).ok_or_else(|| format!("unknown subject `{subject}`"))?;
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for &at in sources {
        for (key, value) in rules[at].borrow().conditions.as_deref().into_iter().flatten() {
            if crate::eval::has_braces(key) || crate::eval::has_template(value) {
                return Err("a condition has a template".into());
            }
            names.insert(key);
        }
    }
    let mut fields = Vec::new();
    for name in names {
        let condition = definition.condition(name).ok_or_else(|| format!("unknown condition `{name}`"))?;
        let conditions = sources
            .iter()
            .filter_map(|&at| rules[at].borrow().conditions.as_deref().and_then(|it| crate::eval::entry(it, name)));
        let values = match condition.kind {
            ConditionKind::Metadata => return Err("metadata conditions are not modelled".into()),
            ConditionKind::Tags => {
                let mut tags = BTreeSet::new();
                conditions.for_each(|value| collect_strings(value, &mut tags));
                if tags.len() > ATOM_LIMIT {
                    return Err(format!("more than {ATOM_LIMIT} values of `{name}`"));
                }
                Values::Tags(tags.into_iter().map(str::to_owned).collect())
            }
            ConditionKind::String | ConditionKind::Path => {
                let mut texts = AtomTexts::default();
                conditions.for_each(|value| collect_atoms(value, &mut texts));
                let path = matches!(condition.kind, ConditionKind::Path);
                Values::Strings(universe::universe(name, path, &owned_atoms(texts)).map_err(|it| it.0)?)
            }
        };
        fields.push(Field { name: name.to_owned(), exists: definition.fields.contains_key(name), values });
    }
    let mut regions = Vec::new();
    for &at in members {
        let mut sets = Vec::new();
        for field in &fields {
            let condition = rules[at].borrow().conditions.as_deref().and_then(|it| crate::eval::entry(it, &field.name));
            sets.push(field_set(field, condition)?);
        }
        regions.push(Product(sets));
    }
    Ok((fields, regions))
}

/// Every string in a condition value (the tags a tag field's condition mentions).
fn collect_strings<'v>(value: &'v Value, out: &mut BTreeSet<&'v str>) {
    match value {
        Value::String(text) => {
            out.insert(text);
        }
        Value::Array(items) => items.iter().for_each(|it| collect_strings(it, out)),
        Value::Object(operators) => operators.values().for_each(|it| collect_strings(it, out)),
        _ => {}
    }
}

/// Atoms as [`collect_atoms`] finds them, borrowed: (whether a `$glob`, the text).
type AtomTexts<'v> = HashSet<(bool, &'v str), FxBuild>;

/// The atoms a string field's condition mentions: `$glob` patterns, and every other string as a literal.
fn collect_atoms<'v>(value: &'v Value, atoms: &mut AtomTexts<'v>) {
    match value {
        Value::String(text) => {
            atoms.insert((false, text));
        }
        Value::Array(items) => items.iter().for_each(|it| collect_atoms(it, atoms)),
        Value::Object(operators) => {
            for (operator, operand) in operators {
                match (operator.as_str(), operand) {
                    ("$glob", Value::String(pattern)) => {
                        atoms.insert((true, pattern));
                    }
                    _ => collect_atoms(operand, atoms),
                }
            }
        }
        _ => {}
    }
}

fn owned_atoms(texts: AtomTexts) -> BTreeSet<Atom> {
    texts
        .into_iter()
        .map(|(glob, text)| if glob { Atom::Glob(text.to_owned()) } else { Atom::Literal(text.to_owned()) })
        .collect()
}

/// Starts a run afresh: see [`seed`].
pub fn reset() {
    universe::reset();
}

/// A seeded run's automata and universes, to run parts of it on other threads.
pub struct Seeded(universe::Shared);

/// What this thread has seeded (after [`seed`]).
pub fn share() -> Seeded {
    Seeded(universe::export())
}

/// Starts this thread's run with another thread's seed: the same universes, so the same answers and
/// witnesses.
pub fn adopt(seeded: &Seeded) {
    universe::import(&seeded.0);
}

/// Announces the string-field atoms and the tags of every rule a run will ask about (templates left out), so
/// each field's universe (and each tag field's table) is built once for the whole run.
/// `rules` gives each rule's subject and conditions.
pub fn seed<'r>(catalog: &'r Catalog, rules: impl IntoIterator<Item = (&'r str, Option<&'r Map<String, Value>>)>) {
    use rayon::prelude::*;
    /// Borrowed while collecting (most values repeat), owned once distinct.
    type Found<'r> = (BTreeMap<(&'r str, bool), AtomTexts<'r>>, BTreeMap<&'r str, BTreeSet<&'r str>>);
    let rules: Vec<(&str, &Map<String, Value>)> =
        rules.into_iter().filter_map(|(subject, conditions)| Some((subject, conditions?))).collect();
    // Collected on every core (the rules are many), then merged: sets, so the order does not matter.
    let collect = |mut found: Found<'r>, &(subject, conditions): &(&'r str, &'r Map<String, Value>)| {
        let (atoms, tags) = &mut found;
        let Some(subject) = catalog.subject(subject) else { return found };
        for (key, value) in conditions {
            let Some(condition) = subject.condition(key) else { continue };
            // Templates are rendered per member; their rendered values are not known here.
            if crate::eval::has_braces(key) || crate::eval::has_template(value) {
                continue;
            }
            let path = match condition.kind {
                ConditionKind::String => false,
                ConditionKind::Path => true,
                ConditionKind::Tags => {
                    collect_strings(value, tags.entry(key.as_str()).or_default());
                    continue;
                }
                ConditionKind::Metadata => continue,
            };
            collect_atoms(value, atoms.entry((key.as_str(), path)).or_default());
        }
        found
    };
    let (atoms, tags) = rules.par_iter().fold(Found::default, collect).reduce(Found::default, |mut into, from| {
        for (field, texts) in from.0 {
            into.0.entry(field).or_default().extend(texts);
        }
        for (field, texts) in from.1 {
            into.1.entry(field).or_default().extend(texts);
        }
        into
    });
    // A tag field's truth table over every tag of the run, when it stays small.
    for (field, texts) in tags {
        if texts.len() <= ATOM_LIMIT {
            universe::seed_tags(field, texts.into_iter().map(str::to_owned).collect());
        }
    }
    for ((field, path), texts) in atoms {
        universe::seed(field, path, &owned_atoms(texts));
    }
}

/// Every value of a field, and its absence.
fn full(field: &Field) -> Set {
    let rows = if field.exists { Bits::full(field.rows()) } else { Bits::empty(field.rows()) };
    Set { rows, absent: true }
}

/// The secret paths requests carry: `/`, or `/`-separated non-empty segments without a trailing slash
/// (Infisical removes it), none starting with `.` and none with control characters or line separators
/// (Infisical's folder names are letters, digits, `-` and `_`).
pub fn secret_paths() -> Lang {
    Lang::regex("^(?:/|(?:/[^/.\u{0}-\u{1f}\u{7f}\u{2028}\u{2029}][^/\u{0}-\u{1f}\u{7f}\u{2028}\u{2029}]*)+)$")
        .expect("a valid pattern")
}

/// The values of `field` a condition accepts, as [`crate::eval`] evaluates it.
fn field_set(field: &Field, condition: Option<&Value>) -> Result<Set, String> {
    let everything = full(field);
    let Some(condition) = condition else { return Ok(everything) };
    let Value::Object(operators) = condition else {
        return Ok(everything.intersect(&operator(field, "$eq", condition)?));
    };
    if operators.is_empty() {
        return Ok(Set { rows: Bits::empty(field.rows()), absent: false });
    }
    let mut set = everything;
    for (name, operand) in operators {
        set = set.intersect(&operator(field, name, operand)?);
    }
    Ok(set)
}

fn operator(field: &Field, name: &str, operand: &Value) -> Result<Set, String> {
    let rows = field.rows();
    match &field.values {
        Values::Tags(atoms) => {
            let atom = |text: &str| atoms.iter().position(|it| it == text);
            let table = |keep: &dyn Fn(usize) -> bool| {
                let mut bits = Bits::empty(rows);
                (0..rows).filter(|row| keep(*row)).for_each(|row| bits.set(row));
                bits
            };
            let strings = |operand: &Value| -> Option<Vec<usize>> {
                operand.as_array()?.iter().map(|it| it.as_str().and_then(atom)).collect()
            };
            match (name, operand) {
                ("$eq", Value::String(text)) => {
                    let bit = atom(text).ok_or("unknown tag")?;
                    Ok(Set { rows: table(&|row| row & (1 << bit) != 0), absent: false })
                }
                ("$ne", Value::String(text)) => {
                    let bit = atom(text).ok_or("unknown tag")?;
                    Ok(Set { rows: table(&|row| row & (1 << bit) == 0), absent: true })
                }
                ("$in", operand) => {
                    let bits = strings(operand).ok_or("`$in` with a value that is not a string")?;
                    Ok(Set { rows: table(&|row| bits.iter().any(|bit| row & (1 << bit) != 0)), absent: false })
                }
                ("$all", operand) => {
                    let bits = strings(operand).ok_or("`$all` with a value that is not a string")?;
                    Ok(Set { rows: table(&|row| bits.iter().all(|bit| row & (1 << bit) != 0)), absent: false })
                }
                _ => Err(format!("`{name}` on a tag field is not modelled")),
            }
        }
        Values::Strings(universe) => {
            let unknown = || "a value the field's universe does not know".to_owned();
            let literal = |text: &str| universe.literal(text).ok_or_else(unknown);
            match (name, operand) {
                ("$eq", Value::String(text)) => Ok(Set { rows: literal(text)?.clone(), absent: false }),
                ("$ne", Value::String(text)) => Ok(Set { rows: universe.all().and_not(literal(text)?), absent: true }),
                ("$in", Value::Array(items)) => {
                    let mut bits = Bits::empty(rows);
                    for item in items {
                        let text = item.as_str().ok_or("`$in` with a value that is not a string")?;
                        bits.or_assign(literal(text)?);
                    }
                    Ok(Set { rows: bits, absent: false })
                }
                // An absent field makes Infisical's `$glob` throw; the request fails either way, so it is
                // left out.
                ("$glob", Value::String(pattern)) => {
                    Ok(Set { rows: universe.glob(pattern).ok_or_else(unknown)?.clone(), absent: false })
                }
                _ => Err(format!("`{name}` with this value is not modelled")),
            }
        }
    }
}

/// The strings `$glob: pattern` matches, exactly: the pattern itself, and what picomatch's regex matches,
/// never the empty string.
pub fn glob_language(pattern: &str) -> Result<Lang, String> {
    if pattern.is_empty() {
        return Ok(Lang::nothing());
    }
    let source = glob::regex_source(pattern);
    let regex = match source.as_str() {
        "" => return Ok(Lang::nothing()),
        "$^" => Lang::nothing(),
        source => Lang::regex(source).map_err(|it| it.0)?,
    };
    Ok(regex.union(&Lang::literal(pattern)).minus(&Lang::literal("")))
}

/// What a group is asked, for [`Memo`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Question {
    Removal(Vec<usize>),
    MeetsAllow(usize),
}

/// A rule's conditions, shared between the stored and the evaluated rule.
type Conditions = Arc<Map<String, Value>>;

/// Answers to group questions, remembered by the content of the group's rules: members of a large
/// organisation share roles and often privileges, so the same group is asked about again and again.
/// Rules are identified by [`Memo::key`] (whether they deny and their conditions), groups by
/// [`Memo::group`] (subject and action); answers name rules by their position in the group.
#[derive(Default)]
pub struct Memo {
    keys: HashMap<eval::Content, u32, FxBuild>,
    /// The keys of conditions objects already seen, by address and whether the rule denies: the same stored
    /// rule is keyed again by every lint that looks at it, and an address is much cheaper to hash than the
    /// content. The object is held, so its address is not reused while the entry lives.
    seen: HashMap<(usize, bool), (Conditions, u32), FxBuild>,
    /// Per subject and action.
    groups: HashMap<String, HashMap<String, u32, FxBuild>, FxBuild>,
    names: Vec<(String, String)>,
    answers: HashMap<(u32, Vec<u32>, Question), Outcome, FxBuild>,
    /// [`Memo::deny_meets`] by group, deny key and allow key.
    meets: HashMap<(u32, u32, u32), bool, FxBuild>,
    regions: Regions,
    /// The groups built last, with their ids and keys, the latest last.
    last: Vec<(u32, Vec<u32>, Group)>,
}

/// How many groups built last a memo keeps.
const RECENT_GROUPS: usize = 8;

/// Rules' regions, remembered by [`Memo::key`]: a rule's set of a field over the run's seeded values (a
/// string field's universe, a tag field's table over every tag of the run) depends on the rule and the field
/// only, and its region on the fields of the group. Where a field has no seeded values, its sets depend on
/// the group (a tag field's table over the tags the group mentions).
#[derive(Default)]
struct Regions {
    /// Condition names, interned.
    name_ids: HashMap<String, u32, FxBuild>,
    names: Vec<String>,
    /// Per rule key (an index): its condition names, `None` when a condition holds a template; `None`
    /// outside while not yet looked at.
    rules: Vec<Option<Option<Vec<u32>>>>,
    /// Per group and condition name: how the field is modelled.
    kinds: HashMap<(u32, u32), Kind, FxBuild>,
    /// Per subject and condition name: the field over its seeded values, `None` when it has none.
    ids: HashMap<String, HashMap<String, Option<u32>, FxBuild>, FxBuild>,
    /// Per group, tag field and the tags the group mentions (ids): the field over their truth table.
    tag_ids: HashMap<(u32, u32, Vec<u32>), u32, FxBuild>,
    /// Tags, interned.
    tag_texts: HashMap<String, u32, FxBuild>,
    /// Per rule key and tag field: the tags its condition mentions.
    tag_atoms: HashMap<(u32, u32), Vec<u32>, FxBuild>,
    fields: Vec<Field>,
    /// The lists of fields groups are modelled over, by their ids: an id of the list, and the list.
    lists: HashMap<Vec<u32>, (u32, Arc<[Field]>), FxBuild>,
    /// Per field and rule key: the rule's set, `None` when the seeded universe cannot express it.
    sets: HashMap<(u32, u32), Option<Set>, FxBuild>,
    /// Per list of fields and rule key: the rule's region, `None` as for `sets`.
    products: HashMap<(u32, u32), Option<Arc<Product>>, FxBuild>,
}

/// How a condition name of a group is modelled.
#[derive(Clone, Copy)]
enum Kind {
    /// A field over the run's seeded values (a field id).
    Seeded(u32),
    /// A tag field without seeded tags: its rows depend on the tags the group mentions.
    Tags { exists: bool },
    /// Not here: metadata, unknown names, fields without a seeded universe.
    Unmodelled,
}

impl Regions {
    /// The fields and regions of the group `group` (of `subject`) of `rules` (with their keys), as
    /// [`model`] gives them (the same sets of requests, so the same answers and witnesses), when every
    /// string field has a seeded universe that expresses every condition; `None` otherwise.
    fn model(
        &mut self,
        catalog: &Catalog,
        group: u32,
        subject: &str,
        rules: &[&EvalRule],
        keys: &[u32],
    ) -> Option<Model> {
        let mut names: Vec<u32> = Vec::new();
        for (rule, key) in rules.iter().zip(keys) {
            names.extend_from_slice(self.names_of(rule, *key)?);
        }
        names.sort_unstable();
        names.dedup();
        names.sort_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        let mut ids = Vec::with_capacity(names.len());
        for &name in &names {
            let kind = match self.kinds.get(&(group, name)) {
                Some(kind) => *kind,
                None => {
                    let kind = self.kind(catalog, subject, name);
                    self.kinds.insert((group, name), kind);
                    kind
                }
            };
            ids.push(match kind {
                Kind::Seeded(id) => id,
                // A tag field's rows are the combinations of the tags the group's rules mention.
                Kind::Tags { exists } => {
                    let text = &self.names[name as usize];
                    let mut atoms: Vec<u32> = Vec::new();
                    for (rule, key) in rules.iter().zip(keys) {
                        if let Some(found) = self.tag_atoms.get(&(*key, name)) {
                            atoms.extend_from_slice(found);
                            continue;
                        }
                        let mut texts = BTreeSet::new();
                        if let Some(value) = rule.conditions.as_deref().and_then(|it| crate::eval::entry(it, text)) {
                            collect_strings(value, &mut texts);
                        }
                        let ids: Vec<u32> = texts
                            .into_iter()
                            .map(|tag| {
                                let next = self.tag_texts.len() as u32;
                                *self.tag_texts.entry(tag.to_owned()).or_insert(next)
                            })
                            .collect();
                        atoms.extend_from_slice(&ids);
                        self.tag_atoms.insert((*key, name), ids);
                    }
                    atoms.sort_unstable();
                    atoms.dedup();
                    if atoms.len() > ATOM_LIMIT {
                        return None;
                    }
                    self.tags(group, name, exists, atoms)
                }
                Kind::Unmodelled => return None,
            });
        }
        let (list, fields) = match self.lists.get(&ids) {
            Some((list, fields)) => (*list, Arc::clone(fields)),
            None => {
                let list = self.lists.len() as u32;
                let fields: Arc<[Field]> = ids.iter().map(|id| self.fields[*id as usize].clone()).collect();
                self.lists.insert(ids.clone(), (list, Arc::clone(&fields)));
                (list, fields)
            }
        };
        let mut regions = Vec::with_capacity(rules.len());
        for (rule, key) in rules.iter().zip(keys) {
            if let Some(found) = self.products.get(&(list, *key)) {
                regions.push(found.clone()?);
                continue;
            }
            let mut sets = Vec::with_capacity(ids.len());
            let mut expressed = true;
            for (id, name) in ids.iter().zip(&names) {
                let (field, text) = (&self.fields[*id as usize], &self.names[*name as usize]);
                let set = self.sets.entry((*id, *key)).or_insert_with(|| {
                    field_set(field, rule.conditions.as_deref().and_then(|it| crate::eval::entry(it, text))).ok()
                });
                match set {
                    Some(set) => sets.push(set.clone()),
                    None => {
                        expressed = false;
                        break;
                    }
                }
            }
            let product = expressed.then(|| Arc::new(Product(sets)));
            self.products.insert((list, *key), product.clone());
            regions.push(product?);
        }
        Some((fields, regions))
    }

    /// The condition names of the rule with key `key`; `None` when a condition holds a template.
    fn names_of(&mut self, rule: &EvalRule, key: u32) -> Option<&[u32]> {
        let at = key as usize;
        if self.rules.len() <= at {
            self.rules.resize(at + 1, None);
        }
        if self.rules[at].is_none() {
            let names = (!rule.is_templated()).then(|| {
                let conditions = rule.conditions.as_deref().into_iter().flatten();
                conditions
                    .map(|(name, _)| match self.name_ids.get(name) {
                        Some(id) => *id,
                        None => {
                            let id = self.names.len() as u32;
                            self.names.push(name.clone());
                            self.name_ids.insert(name.clone(), id);
                            id
                        }
                    })
                    .collect()
            });
            self.rules[at] = Some(names);
        }
        self.rules[at].as_ref().and_then(|it| it.as_deref())
    }

    fn kind(&mut self, catalog: &Catalog, subject: &str, name: u32) -> Kind {
        let Some(definition) = catalog.subject(subject) else { return Kind::Unmodelled };
        let text = self.names[name as usize].clone();
        let Some(condition) = definition.condition(&text) else { return Kind::Unmodelled };
        let exists = definition.fields.contains_key(&text);
        let strings = |path| universe::seeded(&text, path).map(Values::Strings);
        let seeded = match condition.kind {
            ConditionKind::String => self.field(subject, &text, exists, || strings(false)),
            ConditionKind::Path => self.field(subject, &text, exists, || strings(true)),
            // Over every tag of the run when seeding recorded them: the same table for every group.
            ConditionKind::Tags => {
                let tags = || universe::seeded_tags(&text).map(|tags| Values::Tags(tags.to_vec()));
                return self.field(subject, &text, exists, tags).map_or(Kind::Tags { exists }, Kind::Seeded);
            }
            ConditionKind::Metadata => None,
        };
        seeded.map_or(Kind::Unmodelled, Kind::Seeded)
    }

    /// The tag field `name` of `group` over the tags `atoms` (ids, in any order).
    fn tags(&mut self, group: u32, name: u32, exists: bool, atoms: Vec<u32>) -> u32 {
        let key = (group, name, atoms);
        if let Some(id) = self.tag_ids.get(&key) {
            return *id;
        }
        let text = self.names[name as usize].clone();
        let mut tags: Vec<String> = Vec::with_capacity(key.2.len());
        for (tag, id) in &self.tag_texts {
            if key.2.contains(id) {
                tags.push(tag.clone());
            }
        }
        tags.sort_unstable();
        self.fields.push(Field { name: text, exists, values: Values::Tags(tags) });
        let id = self.fields.len() as u32 - 1;
        self.tag_ids.insert(key, id);
        id
    }

    /// The field `name` of `subject` over the run's seeded values (`values`, asked once), if it has any.
    fn field(
        &mut self,
        subject: &str,
        name: &str,
        exists: bool,
        values: impl FnOnce() -> Option<Values>,
    ) -> Option<u32> {
        if let Some(id) = self.ids.get(subject).and_then(|it| it.get(name)) {
            return *id;
        }
        let id = values().map(|values| {
            self.fields.push(Field { name: name.to_owned(), exists, values });
            self.fields.len() as u32 - 1
        });
        self.ids.entry(subject.to_owned()).or_default().insert(name.to_owned(), id);
        id
    }
}

impl Memo {
    /// The identity of a rule as a group sees it.
    pub fn key(&mut self, rule: &EvalRule) -> u32 {
        let Some(conditions) = &rule.conditions else { return self.key_of_content(rule) };
        let address = Arc::as_ptr(conditions) as usize;
        if let Some((_, key)) = self.seen.get(&(address, rule.inverted)) {
            return *key;
        }
        let key = self.key_of_content(rule);
        self.seen.insert((address, rule.inverted), (Arc::clone(conditions), key));
        key
    }

    fn key_of_content(&mut self, rule: &EvalRule) -> u32 {
        let next = self.keys.len() as u32;
        *self.keys.entry(rule.content()).or_insert(next)
    }

    /// The identity of the group of a subject and action.
    pub fn group(&mut self, subject: &str, action: &str) -> u32 {
        if let Some(&id) = self.groups.get(subject).and_then(|it| it.get(action)) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push((subject.to_owned(), action.to_owned()));
        self.groups.entry(subject.to_owned()).or_default().insert(action.to_owned(), id);
        id
    }

    fn ask(
        &mut self,
        catalog: &Catalog,
        group: u32,
        rules: &[&EvalRule],
        keys: Vec<u32>,
        question: Question,
    ) -> Outcome {
        let key = (group, keys, question);
        if let Some(answer) = self.answers.get(&key) {
            return answer.clone();
        }
        // Questions come in runs about a few groups (a privilege's groups, then each of its rules' groups
        // again; the next privilege of the member in the same groups): the groups built last are kept.
        let last = match self.last.iter().position(|(id, keys, _)| *id == group && *keys == key.1) {
            Some(at) => self.last.remove(at),
            None => {
                if self.last.len() == RECENT_GROUPS {
                    self.last.remove(0);
                }
                (group, key.1.clone(), self.build(catalog, group, rules, &key.1))
            }
        };
        let answer = match &key.2 {
            Question::Removal(removed) => last.2.removal(removed),
            Question::MeetsAllow(position) => last.2.meets_allow(*position),
        };
        self.last.push(last);
        self.answers.insert(key, answer.clone());
        answer
    }

    /// [`Group::build`] for the group `group` of `rules` (in order, with their [`Memo::key`]s `keys`), with
    /// the rules' regions remembered.
    pub fn build(&mut self, catalog: &Catalog, group: u32, rules: &[&EvalRule], keys: &[u32]) -> Group {
        self.build_of(catalog, group, (rules, keys), rules, (0..rules.len()).collect())
    }

    /// The group `group` of the rules at `members` (positions in `rules`), which are `chosen` with their
    /// keys: over remembered regions, or built afresh where they cannot express a rule.
    fn build_of<R: Borrow<EvalRule>>(
        &mut self,
        catalog: &Catalog,
        group: u32,
        (chosen, keys): (&[&EvalRule], &[u32]),
        rules: &[R],
        members: Vec<usize>,
    ) -> Group {
        let (subject, action) = &self.names[group as usize];
        match self.regions.model(catalog, group, subject, chosen, keys) {
            Some(model) => Group::assemble(rules, subject, action, members, Ok(model)),
            None => Group::build(catalog, rules, subject, action, members),
        }
    }

    /// The [`Memo::key`] of every rule.
    pub fn keys(&mut self, rules: &[EvalRule]) -> Vec<u32> {
        rules.iter().map(|rule| self.key(rule)).collect()
    }

    /// [`Group::build`] (`members` index `rules`, whose keys are `keys`), with the rules' regions
    /// remembered.
    pub fn group_of(
        &mut self,
        catalog: &Catalog,
        rules: &[EvalRule],
        keys: &[u32],
        subject: &str,
        action: &str,
        members: Vec<usize>,
    ) -> Group {
        let chosen: Vec<&EvalRule> = members.iter().map(|&at| &rules[at]).collect();
        let chosen_keys: Vec<u32> = members.iter().map(|&at| keys[at]).collect();
        let group = self.group(subject, action);
        self.build_of(catalog, group, (&chosen, &chosen_keys), rules, members)
    }

    /// The groups of prepared rules by subject and action (one rule is in the group of every action it
    /// names), with the rules' regions remembered.
    pub fn groups(&mut self, catalog: &Catalog, rules: &[EvalRule], keys: &[u32]) -> Vec<Group> {
        index(rules)
            .into_iter()
            .map(|((subject, action), members)| self.group_of(catalog, rules, keys, subject, action, members))
            .collect()
    }

    /// [`Group::removal`] for the group `group` of `rules` (in order, with their [`Memo::key`]s `keys`);
    /// `covering` names positions in `rules`.
    pub fn removal(
        &mut self,
        catalog: &Catalog,
        group: u32,
        rules: &[&EvalRule],
        keys: Vec<u32>,
        removed: Vec<usize>,
    ) -> Outcome {
        self.ask(catalog, group, rules, keys, Question::Removal(removed))
    }

    /// Whether the deny `deny` (a rule and its [`Memo::key`]) matches a request the allow `allow` matches in
    /// the group `group`, or that cannot be decided: [`Group::meets_allow`] of the two alone. A deny meets a
    /// group's allows exactly when it meets one of them, and pairs recur from member to member far more than
    /// whole groups do.
    pub fn deny_meets(
        &mut self,
        catalog: &Catalog,
        group: u32,
        deny: (&EvalRule, u32),
        allow: (&EvalRule, u32),
    ) -> bool {
        if let Some(meets) = self.meets.get(&(group, deny.1, allow.1)) {
            return *meets;
        }
        let built = self.build(catalog, group, &[allow.0, deny.0], &[allow.1, deny.1]);
        let meets = !matches!(built.meets_allow(1), Outcome::Same { .. });
        self.meets.insert((group, deny.1, allow.1), meets);
        meets
    }

    /// [`Group::meets_allow`] for the group `group` of `rules`.
    pub fn meets_allow(
        &mut self,
        catalog: &Catalog,
        group: u32,
        rules: &[&EvalRule],
        keys: Vec<u32>,
        position: usize,
    ) -> Outcome {
        self.ask(catalog, group, rules, keys, Question::MeetsAllow(position))
    }
}

/// The secret paths of several `$glob` patterns over one shared universe, for overlap questions between
/// them (approval policies' paths).
pub struct PathGlobs {
    universe: Arc<Universe>,
    sets: Vec<Option<Bits>>,
}

impl PathGlobs {
    pub fn new(patterns: &[Option<&str>]) -> PathGlobs {
        let atoms: BTreeSet<Atom> = patterns.iter().flatten().map(|it| Atom::Glob((*it).to_owned())).collect();
        let universe = universe::universe("secretPath", true, &atoms)
            .or_else(|_| universe::universe("secretPath", true, &BTreeSet::new()))
            .expect("the universe of no atoms");
        let sets = patterns.iter().map(|pattern| universe.glob((*pattern)?).cloned()).collect();
        PathGlobs { universe, sets }
    }

    /// A secret path both patterns (by position) match, if there is one; `None` too when a pattern could
    /// not be modelled.
    pub fn overlap(&self, first: usize, second: usize) -> Option<&str> {
        let (Some(a), Some(b)) = (&self.sets[first], &self.sets[second]) else { return None };
        a.and(b).first().map(|signature| self.universe.witness(signature))
    }
}

/// The rules of each subject and action (indices into `rules`, in order).
pub fn index(rules: &[EvalRule]) -> BTreeMap<(&str, &str), Vec<usize>> {
    let mut index: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (at, rule) in rules.iter().enumerate() {
        for action in &rule.actions {
            index.entry((rule.subject.as_str(), action.as_str())).or_default().push(at);
        }
    }
    index
}

/// Checks a witness against direct evaluation: `rules` with and without the rules at `removed` (indices
/// into `rules`) must answer `before` and `after` on it.
pub fn confirm(
    rules: &[EvalRule],
    removed: &[usize],
    group: &Group,
    witness: &Request,
    before: bool,
    after: bool,
) -> bool {
    let object = witness.object();
    let kept: Vec<EvalRule> =
        rules.iter().enumerate().filter(|(at, _)| !removed.contains(at)).map(|(_, rule)| rule.clone()).collect();
    let answer =
        |rules: &[EvalRule]| eval::can(rules, &group.action, &group.subject, object.as_ref()).map(|it| it.allowed);
    answer(rules) == Ok(before) && answer(&kept) == Ok(after)
}

#[cfg(test)]
mod tests;
