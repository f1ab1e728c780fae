//! `permc roles suggest --write`: the rewrite as text edits of the policy files, so everything the edits do
//! not touch (formatting, comments, order) stays as written. The new roles go to a new file. The edited
//! repository is checked and every member's access compared with the original before anything is written;
//! where a file's shape is one the edits do not handle, nothing is written and the place is named.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::propose::{Proposal, Rewrite};
use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::eval::Identity;
use crate::model::{Member, Project};
use crate::source::{FileId, Span};
use crate::syntax::{Format, Node};
use crate::workspace::Analysis;

/// One replacement of a byte range of a file.
#[derive(Clone, Debug, PartialEq)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// The files to write: (path, new text). Edited files and one new file of roles.
pub type Files = Vec<(PathBuf, String)>;

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |it| it + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |it| at + it + 1)
}

fn indentation(text: &str, at: usize) -> &str {
    let start = line_start(text, at);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The byte range that removes a list item (YAML `- ...` or an HCL block) with the comment lines right
/// above it.
fn removal(text: &str, format: Format, item: Span) -> Result<(usize, usize), String> {
    let mut start = item.start as usize;
    if format != Format::Hcl {
        // Back over blanks to the item's dash.
        let before = text[..start].trim_end_matches([' ', '\t', '\n', '\r']);
        if !before.ends_with('-') {
            return Err("a list item not written as a `- ` line".into());
        }
        start = before.len() - 1;
    }
    let mut from = line_start(text, start);
    if !text[from..start].trim().is_empty() {
        return Err("a list item that shares its line with other text".into());
    }
    // Comment lines directly above belong to the item.
    while from > 0 {
        let previous = line_start(text, from - 1);
        if text[previous..from].trim_start().starts_with('#') || text[previous..from].trim_start().starts_with("//") {
            from = previous;
        } else {
            break;
        }
    }
    let end = line_end(text, (item.end as usize).saturating_sub(1).max(item.start as usize));
    if !text[item.end as usize..end].trim().is_empty() && !text[item.end as usize..end].trim().starts_with('#') {
        return Err("a list item followed by other text on its line".into());
    }
    // A blank line that separated the item from what came before goes with it when nothing of the list
    // follows (the block's end or another blank line).
    let next = &text[end..line_end(text, end.min(text.len().saturating_sub(1))).max(end)];
    if from > 0 && (next.trim().is_empty() || next.trim_start().starts_with('}')) {
        let previous = line_start(text, from - 1);
        if text[previous..from].trim().is_empty() {
            from = previous;
        }
    }
    Ok((from, end))
}

fn quoted(format: Format, word: &str) -> String {
    match format {
        Format::Hcl => json!(word).to_string(),
        _ => crate::syntax::write::yaml(&json!(word)).trim_end().to_owned(),
    }
}

/// The member's node in its file's tree.
fn member_node<'a>(root: &'a Node, member: &Member) -> Option<&'a Node> {
    let key = if member.kind == crate::model::MemberKind::Identity { "identities" } else { "users" };
    root.get(key)?.value.as_seq()?.iter().find(|it| it.span == member.span)
}

fn format_of(analysis: &Analysis, file: FileId) -> Format {
    Format::of_path(&analysis.db.get(file).path).unwrap_or(Format::Yaml)
}

/// The edits of one member.
fn member_edits(
    analysis: &Analysis,
    root: Option<&Node>,
    member: &Member,
    rewrite: &Rewrite,
    out: &mut Vec<Edit>,
) -> Result<(), String> {
    let text = analysis.db.get(member.file).text.as_str();
    let format = format_of(analysis, member.file);
    let node = root.and_then(|it| member_node(it, member)).ok_or("the member's declaration was not found")?;
    // Roles.
    if !rewrite.add_roles.is_empty() {
        let words: Vec<String> = rewrite.add_roles.iter().map(|it| quoted(format, it)).collect();
        match node.get("roles") {
            Some(entry) if text[entry.value.span.range()].starts_with('[') => {
                let close = entry.value.span.end as usize - 1;
                let empty = entry.value.as_seq().is_none_or(<[Node]>::is_empty);
                let prefix = if empty { "" } else { ", " };
                out.push(Edit { start: close, end: close, text: format!("{prefix}{}", words.join(", ")) });
            }
            Some(entry) if format != Format::Hcl => {
                let last = entry.value.as_seq().and_then(|it| it.last()).ok_or("an empty block list of roles")?;
                let dash = text[..last.span.start as usize].trim_end_matches([' ', '\t']);
                let indent = indentation(text, dash.len().saturating_sub(1));
                let at = line_end(text, last.span.end as usize - 1);
                let lines: String = words.iter().map(|it| format!("{indent}- {it}\n")).collect();
                out.push(Edit { start: at, end: at, text: lines });
            }
            _ => {
                // No list to extend: a new line after the member's first line.
                let first = node.as_map().and_then(|it| it.first()).ok_or("an empty member")?;
                let (at, indent) = match format {
                    Format::Hcl => {
                        let open = line_end(text, member.span.start as usize);
                        (open, format!("{}  ", indentation(text, member.span.start as usize)))
                    }
                    _ => (line_end(text, first.value.span.end.max(first.key_span.end) as usize - 1), {
                        let key_line = indentation(text, first.key_span.start as usize).to_owned();
                        let column = first.key_span.start as usize - line_start(text, first.key_span.start as usize);
                        if key_line.len() < column { " ".repeat(column) } else { key_line }
                    }),
                };
                let line = match format {
                    Format::Hcl => format!("{indent}roles = [{}]\n", words.join(", ")),
                    _ => format!("{indent}roles: [{}]\n", words.join(", ")),
                };
                out.push(Edit { start: at, end: at, text: line });
            }
        }
    }
    // Privileges.
    let privileges = node.get("privileges");
    let items: Vec<&Node> =
        privileges.and_then(|it| it.value.as_seq()).map(|it| it.iter().collect()).unwrap_or_default();
    let slug_of = |item: &Node| item.get("slug").and_then(|it| it.value.as_str()).map(str::to_owned);
    let removing_all = format != Format::Hcl
        && !items.is_empty()
        && items.iter().all(|item| slug_of(item).is_some_and(|slug| rewrite.remove.contains(&slug)));
    if removing_all {
        let entry = privileges.ok_or("no privileges")?;
        let from = line_start(text, entry.key_span.start as usize);
        let end = line_end(text, entry.value.span.end as usize - 1);
        out.push(Edit { start: from, end, text: String::new() });
    } else {
        for item in &items {
            let Some(slug) = slug_of(item) else { continue };
            if rewrite.remove.contains(&slug) {
                let (start, end) = removal(text, format, item.span)?;
                out.push(Edit { start, end, text: String::new() });
            } else if let Some((_, left)) = rewrite.shrink.iter().find(|(it, _)| *it == slug) {
                shrink(text, format, item, left, out)?;
            }
        }
    }
    Ok(())
}

/// Edits one privilege's permission items down to `left` (the same rules, some with fewer actions, some
/// gone).
fn shrink(text: &str, format: Format, item: &Node, left: &[Value], out: &mut Vec<Edit>) -> Result<(), String> {
    let rules =
        item.get("permissions").and_then(|it| it.value.as_seq()).ok_or("a privilege without a permission list")?;
    let mut remaining = left.iter().peekable();
    for rule in rules {
        let actions: Vec<String> = match rule.get("action").map(|it| &it.value) {
            Some(node) => match node.as_seq() {
                Some(items) => items.iter().filter_map(|it| it.as_str().map(str::to_owned)).collect(),
                None => node.as_str().map(|it| vec![it.to_owned()]).unwrap_or_default(),
            },
            None => Vec::new(),
        };
        // The rule survives when the next remaining rule is its subset of actions (same subject).
        let kept = remaining.peek().and_then(|next| {
            let subject = rule.get("subject").and_then(|it| it.value.as_str());
            let wanted: Vec<String> =
                next["action"].as_array()?.iter().filter_map(|it| it.as_str().map(str::to_owned)).collect();
            (next["subject"].as_str() == subject && wanted.iter().all(|it| actions.contains(it))).then_some(wanted)
        });
        match kept {
            Some(wanted) => {
                remaining.next();
                if wanted != actions {
                    let node = &rule.get("action").ok_or("a rule without `action`")?.value;
                    let list: Vec<String> = wanted.iter().map(|it| quoted(format, it)).collect();
                    out.push(Edit {
                        start: node.span.start as usize,
                        end: node.span.end as usize,
                        text: format!("[{}]", list.join(", ")),
                    });
                }
            }
            None => {
                let (start, end) = removal(text, format, rule.span)?;
                out.push(Edit { start, end, text: String::new() });
            }
        }
    }
    if remaining.next().is_some() {
        return Err("a privilege whose rules could not be matched to its text".into());
    }
    Ok(())
}

fn apply(text: &str, mut edits: Vec<Edit>) -> Result<String, String> {
    edits.sort_by_key(|it| (it.start, it.end));
    for pair in edits.windows(2) {
        if pair[1].start < pair[0].end {
            return Err("two edits overlap".into());
        }
    }
    let mut out = text.to_owned();
    for edit in edits.into_iter().rev() {
        out.replace_range(edit.start..edit.end, &edit.text);
    }
    Ok(out)
}

/// A member's permanent rules (roles, then privileges) and its temporary grants as written.
fn permanent_rules(catalog: &Catalog, project: &Project, member: &Member) -> (Vec<StoredRule>, String) {
    let mut rules = Vec::new();
    let mut temporary = Vec::new();
    for assignment in member.roles.iter() {
        let slug = assignment.role.value.as_str();
        let role_rules = crate::access::role_rules(catalog, project, slug);
        match &assignment.temporary {
            None => rules.extend(role_rules),
            Some(window) => temporary.push(format!(
                "role {slug} {} {:?}",
                window.range.value,
                window.start.as_ref().map(|it| &it.value)
            )),
        }
    }
    for privilege in member.privileges.iter() {
        let stored = privilege.permissions.as_ref().and_then(|it| it.stored.clone()).unwrap_or_default();
        match &privilege.temporary {
            None => rules.extend(stored),
            Some(window) => temporary.push(format!(
                "privilege {} {} {:?} {:?}",
                privilege.slug.value,
                window.range.value,
                window.start.as_ref().map(|it| &it.value),
                stored.iter().map(crate::deploy::desired::wire_rule).collect::<Vec<_>>()
            )),
        }
    }
    temporary.sort();
    (rules, temporary.join("\n"))
}

/// The rewritten files, checked: the edited repository has no errors and every member's access is
/// identical (permanent grants by the scope procedure, temporary grants unchanged as written).
pub fn rewrite(
    catalog: &Catalog,
    analysis: &Analysis,
    proposal: &Proposal,
    root: &std::path::Path,
) -> Result<Files, String> {
    let mut edits: BTreeMap<FileId, Vec<Edit>> = BTreeMap::new();
    let mut by_name: std::collections::HashMap<&str, &Member> = std::collections::HashMap::new();
    for member in analysis.project.members() {
        by_name.entry(member.name.value.as_str()).or_insert(member);
    }
    // Each file's tree, parsed again once for all its members.
    let mut trees: std::collections::HashMap<FileId, Option<Node>> = std::collections::HashMap::new();
    for rewrite in &proposal.rewrites {
        let member = by_name
            .get(rewrite.member.as_str())
            .copied()
            .ok_or_else(|| format!("member `{}` not found", rewrite.member))?;
        let root = trees.entry(member.file).or_insert_with(|| analysis.tree(member.file)).as_ref();
        let mut own = Vec::new();
        member_edits(analysis, root, member, rewrite, &mut own).map_err(|why| {
            let file = analysis.db.get(member.file);
            let at = file.line_col(member.span.start);
            format!(
                "cannot rewrite `{}` at {}:{}:{}: {why}; nothing was written",
                rewrite.member,
                file.display_path(),
                at.line,
                at.column
            )
        })?;
        edits.entry(member.file).or_default().extend(own);
    }
    let mut files: Files = Vec::new();
    for (file, list) in edits {
        let source = analysis.db.get(file);
        let text =
            apply(&source.text, list).map_err(|why| format!("cannot rewrite `{}`: {why}", source.display_path()))?;
        files.push((source.path.clone(), text));
    }
    // The new roles, in the surface the repository's roles (or project) are written in.
    let fresh: Vec<Value> = proposal
        .roles
        .iter()
        .filter(|it| !it.existing)
        .map(|role| json!({ "slug": role.slug, "name": role.name, "permissions": role.rules }))
        .collect();
    if !fresh.is_empty() {
        let hcl = analysis
            .project
            .roles
            .first()
            .map(|it| it.file)
            .or_else(|| analysis.project.declaration().map(|it| it.file))
            .is_some_and(|file| format_of(analysis, file) == Format::Hcl);
        let document = json!({ "roles": fresh });
        let (extension, body) = if hcl {
            ("hcl", crate::syntax::write::hcl(&document))
        } else {
            ("yaml", crate::syntax::write::yaml(&document))
        };
        let mut path = root.join(format!("suggested-roles.{extension}"));
        let mut n = 2;
        while path.exists() {
            path = root.join(format!("suggested-roles-{n}.{extension}"));
            n += 1;
        }
        files.push((
            path,
            format!(
                "# Proposed by `permc roles suggest`: custom roles for privileges granted again and again.\n{body}"
            ),
        ));
    }
    verify(catalog, analysis, &files)?;
    Ok(files)
}

fn verify(catalog: &Catalog, analysis: &Analysis, files: &Files) -> Result<(), String> {
    let mut sources: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for id in 0..analysis.db.len() {
        let file = analysis.db.get(FileId(id as u32));
        let text = files.iter().find(|(path, _)| *path == file.path).map_or(&file.text, |(_, text)| text);
        sources.push((file.path.clone(), text.clone().into_bytes()));
    }
    for (path, text) in files {
        if !sources.iter().any(|(it, _)| it == path) {
            sources.push((path.clone(), text.clone().into_bytes()));
        }
    }
    let after = crate::workspace::analyze_sources(sources, catalog);
    if after.error_count() > 0 {
        let first =
            after.diagnostics.iter().find(|it| it.is_error()).map(|it| crate::render::human_string(&after.db, it));
        return Err(format!(
            "the rewritten repository would not check; nothing was written:\n{}",
            first.unwrap_or_default()
        ));
    }
    let rewritten_members: std::collections::HashMap<(crate::model::MemberKind, &str), &Member> =
        after.project.members().map(|it| ((it.kind, it.name.value.as_str()), it)).collect();
    for member in analysis.project.members() {
        let Some(rewritten) = rewritten_members.get(&(member.kind, member.name.value.as_str())).copied() else {
            return Err(format!("the rewrite lost member `{}`; nothing was written", member.name.value));
        };
        let (before, before_temporary) = permanent_rules(catalog, &analysis.project, member);
        let (now, now_temporary) = permanent_rules(catalog, &after.project, rewritten);
        if before_temporary != now_temporary {
            return Err(format!(
                "the rewrite changed a temporary grant of `{}`; nothing was written",
                member.name.value
            ));
        }
        let identity = Identity {
            id: member.id.as_ref().map(|it| it.value.clone()).unwrap_or_default(),
            username: member.name.value.clone(),
            metadata: serde_json::Map::new(),
            auth: None,
        };
        let effect = crate::deploy::effect::compare(catalog, &member.name.value, &before, &now, &identity);
        if !effect.gains.is_empty() || !effect.losses.is_empty() {
            return Err(format!("the rewrite would change the access of `{}`; nothing was written", member.name.value));
        }
    }
    Ok(())
}
