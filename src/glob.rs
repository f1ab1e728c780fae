//! `$glob` patterns as Infisical evaluates them: picomatch with `{ strictSlashes: false }` and the default
//! `dot: false`.
//!
//! Supported syntax: `*` (any run within a segment), `**` as a whole segment (any number of segments), `?`,
//! classes `[abc]`, `[a-z]`, `[!x]`/`[^x]`, braces `{a,b}` (nested) and ranges `{1..3}`, extglobs
//! `@(a|b)`, `!(a|b)`, `+(a)`, `*(a)`, `?(a)`, and `\` escapes. `*`, `?`, `**` and classes never match a `.`
//! at the start of a segment. A trailing `/` on the value is tolerated.

/// The longest pattern Infisical accepts (picomatch's `MAX_LENGTH`).
pub const MAX_PATTERN_LENGTH: usize = 65_536;

/// How many alternatives brace expansion may produce before the pattern is matched as written.
const MAX_EXPANSIONS: usize = 4_096;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Char(char),
    Any,
    Star,
    Globstar,
    Class { negated: bool, items: Vec<(char, char)> },
    Ext { kind: char, alternatives: Vec<Vec<Token>> },
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Glob {
    alternatives: Vec<Vec<Token>>,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let alternatives = expand_braces(pattern).iter().map(|it| tokenize(&it.chars().collect::<Vec<_>>())).collect();
        Glob { alternatives }
    }

    /// Whether `value` matches (picomatch `isMatch(value, pattern, { strictSlashes: false })`).
    pub fn is_match(&self, value: &str) -> bool {
        let chars: Vec<char> = value.chars().collect();
        let trimmed =
            if chars.len() > 1 && chars.last() == Some(&'/') { &chars[..chars.len() - 1] } else { &chars[..] };
        self.alternatives.iter().any(|tokens| {
            matches(tokens, &chars, 0, 0) || (trimmed.len() != chars.len() && matches(tokens, trimmed, 0, 0))
        })
    }
}

/// Whether `value` matches `pattern`; an empty pattern matches nothing.
pub fn is_match(pattern: &str, value: &str) -> bool {
    !pattern.is_empty() && Glob::new(pattern).is_match(value)
}

fn at_segment_start(value: &[char], position: usize) -> bool {
    position == 0 || value[position - 1] == '/'
}

fn matches(tokens: &[Token], value: &[char], t: usize, v: usize) -> bool {
    let Some(token) = tokens.get(t) else {
        return v == value.len();
    };
    match token {
        // `a/**` matches `a` itself.
        Token::Char('/') if v == value.len() && t + 2 == tokens.len() && tokens[t + 1] == Token::Globstar => true,
        Token::Char(c) => value.get(v) == Some(c) && matches(tokens, value, t + 1, v + 1),
        Token::Any => match value.get(v) {
            Some('/') | None => false,
            Some('.') if at_segment_start(value, v) => false,
            Some(_) => matches(tokens, value, t + 1, v + 1),
        },
        Token::Class { negated, items } => match value.get(v) {
            None | Some('/') => false,
            Some('.') if at_segment_start(value, v) && *negated => false,
            Some(&c) => {
                let inside = items.iter().any(|&(low, high)| low <= c && c <= high);
                inside != *negated && matches(tokens, value, t + 1, v + 1)
            }
        },
        Token::Star => {
            if value.get(v) == Some(&'.') && at_segment_start(value, v) {
                return matches(tokens, value, t + 1, v);
            }
            let mut end = v;
            loop {
                if matches(tokens, value, t + 1, end) {
                    return true;
                }
                match value.get(end) {
                    Some('/') | None => return false,
                    Some(_) => end += 1,
                }
            }
        }
        Token::Globstar => {
            // `**` stands for a whole segment. `a/**` also matches `a`, and `**/b` matches `b`.
            let preceded_by_slash = t > 0 && tokens[t - 1] == Token::Char('/');
            let followed_by_slash = tokens.get(t + 1) == Some(&Token::Char('/'));
            if preceded_by_slash && t + 1 == tokens.len() && v == value.len() && v > 0 && value[v - 1] == '/' {
                return true;
            }
            if preceded_by_slash && t + 1 == tokens.len() && v == value.len() {
                return false;
            }
            // Zero segments.
            if followed_by_slash && matches(tokens, value, t + 2, v) {
                return true;
            }
            if t + 1 == tokens.len() && v == value.len() {
                return true;
            }
            // One or more segments, none starting with a dot.
            let mut position = v;
            loop {
                if value.get(position) == Some(&'.') && at_segment_start(value, position) {
                    return false;
                }
                while position < value.len() && value[position] != '/' {
                    position += 1;
                }
                if matches(tokens, value, t + 1, position) {
                    return true;
                }
                if position >= value.len() {
                    return false;
                }
                position += 1;
            }
        }
        Token::Ext { kind, alternatives } => match_ext(*kind, alternatives, tokens, value, t, v),
    }
}

fn match_ext(kind: char, alternatives: &[Vec<Token>], tokens: &[Token], value: &[char], t: usize, v: usize) -> bool {
    // Ends of the segment run this extglob may consume.
    let limit = (v..value.len()).find(|&i| value[i] == '/').unwrap_or(value.len());
    match kind {
        '@' | '?' => {
            (kind == '?' && matches(tokens, value, t + 1, v))
                || (v..=limit).any(|end| one_at(alternatives, value, v, end) && matches(tokens, value, t + 1, end))
        }
        '+' | '*' => {
            let mut reachable = vec![false; limit - v + 1];
            reachable[0] = true;
            if kind == '*' && matches(tokens, value, t + 1, v) {
                return true;
            }
            for start in v..=limit {
                if !reachable[start - v] {
                    continue;
                }
                for end in start + 1..=limit {
                    if !reachable[end - v] && one_at(alternatives, value, start, end) {
                        reachable[end - v] = true;
                        if matches(tokens, value, t + 1, end) {
                            return true;
                        }
                    }
                }
            }
            false
        }
        _ => {
            // `!(...)`: any run of the segment that is not one of the alternatives.
            if value.get(v) == Some(&'.') && at_segment_start(value, v) {
                return false;
            }
            (v..=limit).any(|end| !one_at(alternatives, value, v, end) && matches(tokens, value, t + 1, end))
        }
    }
}

fn one_at(alternatives: &[Vec<Token>], value: &[char], from: usize, to: usize) -> bool {
    let slice = &value[..to];
    alternatives.iter().any(|alternative| matches(alternative, slice, 0, from))
}

fn tokenize(pattern: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        match c {
            '\\' if i + 1 < pattern.len() => {
                tokens.push(Token::Char(pattern[i + 1]));
                i += 2;
            }
            '*' if pattern.get(i + 1) == Some(&'(') => {
                if let Some((token, next)) = extglob('*', pattern, i + 1) {
                    tokens.push(token);
                    i = next;
                } else {
                    tokens.push(Token::Star);
                    i += 1;
                }
            }
            '*' => {
                let mut end = i;
                while end < pattern.len() && pattern[end] == '*' {
                    end += 1;
                }
                let whole_segment = (i == 0 || pattern[i - 1] == '/') && (end == pattern.len() || pattern[end] == '/');
                if end - i >= 2 && whole_segment {
                    tokens.push(Token::Globstar);
                } else {
                    tokens.push(Token::Star);
                }
                i = end;
            }
            '?' | '@' | '+' | '!' if pattern.get(i + 1) == Some(&'(') => {
                if let Some((token, next)) = extglob(c, pattern, i + 1) {
                    tokens.push(token);
                    i = next;
                } else if c == '?' {
                    tokens.push(Token::Any);
                    i += 1;
                } else {
                    tokens.push(Token::Char(c));
                    i += 1;
                }
            }
            '?' => {
                tokens.push(Token::Any);
                i += 1;
            }
            '[' => {
                if let Some((token, next)) = class(pattern, i) {
                    tokens.push(token);
                    i = next;
                } else {
                    tokens.push(Token::Char('['));
                    i += 1;
                }
            }
            _ => {
                tokens.push(Token::Char(c));
                i += 1;
            }
        }
    }
    tokens
}

fn class(pattern: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start + 1;
    let negated = matches!(pattern.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < pattern.len() {
        let mut c = pattern[i];
        if c == ']' && !first {
            return Some((Token::Class { negated, items }, i + 1));
        }
        first = false;
        if c == '\\' && i + 1 < pattern.len() {
            i += 1;
            c = pattern[i];
        }
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|it| *it != ']') {
            items.push((c, pattern[i + 2]));
            i += 3;
        } else {
            items.push((c, c));
            i += 1;
        }
    }
    None
}

fn extglob(kind: char, pattern: &[char], open: usize) -> Option<(Token, usize)> {
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut start = open + 1;
    let mut i = open;
    while i < pattern.len() {
        match pattern[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(&pattern[start..i]);
                    let alternatives = parts.into_iter().map(tokenize).collect();
                    return Some((Token::Ext { kind, alternatives }, i + 1));
                }
            }
            '|' if depth == 1 => {
                parts.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Expands `{a,b}` and `{1..3}` into alternative patterns (picomatch matches braces the same way).
fn expand_braces(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(pattern, &mut out);
    if out.len() > MAX_EXPANSIONS {
        return vec![pattern.to_string()];
    }
    out
}

fn expand_into(pattern: &str, out: &mut Vec<String>) {
    if out.len() > MAX_EXPANSIONS {
        return;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '{' => {
                if let Some((close, commas)) = brace_group(&chars, i) {
                    let prefix: String = chars[..i].iter().collect();
                    let suffix: String = chars[close + 1..].iter().collect();
                    let inner: String = chars[i + 1..close].iter().collect();
                    let alternatives = if commas.is_empty() {
                        match range(&inner) {
                            Some(items) => items,
                            None => {
                                i += 1;
                                continue;
                            }
                        }
                    } else {
                        let mut items = Vec::new();
                        let mut last = i + 1;
                        for &comma in &commas {
                            items.push(chars[last..comma].iter().collect());
                            last = comma + 1;
                        }
                        items.push(chars[last..close].iter().collect());
                        items
                    };
                    for alternative in alternatives {
                        expand_into(&format!("{prefix}{alternative}{suffix}"), out);
                    }
                    return;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push(pattern.to_string());
}

/// The closing brace of the group opening at `open` and its top-level commas.
fn brace_group(chars: &[char], open: usize) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, commas));
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn range(inner: &str) -> Option<Vec<String>> {
    let (low, high) = inner.split_once("..")?;
    if let (Ok(low), Ok(high)) = (low.parse::<i64>(), high.parse::<i64>()) {
        if (high - low).abs() > MAX_EXPANSIONS as i64 {
            return None;
        }
        let items: Vec<i64> = if low <= high { (low..=high).collect() } else { (high..=low).rev().collect() };
        return Some(items.into_iter().map(|it| it.to_string()).collect());
    }
    let (mut low_chars, mut high_chars) = (low.chars(), high.chars());
    match (low_chars.next(), low_chars.next(), high_chars.next(), high_chars.next()) {
        (Some(low), None, Some(high), None) => {
            let (a, b) = (low as u32, high as u32);
            let items: Vec<u32> = if a <= b { (a..=b).collect() } else { (b..=a).rev().collect() };
            Some(items.into_iter().filter_map(char::from_u32).map(String::from).collect())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::is_match;

    #[test]
    fn stars_and_globstars() {
        assert!(is_match("/app/**", "/app"));
        assert!(is_match("/app/**", "/app/a/b"));
        assert!(!is_match("/app/**", "/apple"));
        assert!(is_match("/app/*", "/app/x"));
        assert!(!is_match("/app/*", "/app/x/y"));
        assert!(!is_match("/app/*", "/app"));
        assert!(is_match("/app/*", "/app/x/"));
        assert!(!is_match("/app/*", "/app/.env"));
        assert!(!is_match("/app/**", "/app/.git/x"));
        assert!(is_match("/app/.*", "/app/.env"));
        assert!(is_match("secret*", "secrets"));
        assert!(!is_match("", ""));
    }

    #[test]
    fn classes_braces_and_extglobs() {
        assert!(is_match("{kms,secrets}", "secrets"));
        assert!(!is_match("{kms,secrets}", "identity"));
        assert!(is_match("/v{1..3}", "/v2"));
        assert!(!is_match("/v{1..3}", "/v4"));
        assert!(is_match("/[a-c]x", "/bx"));
        assert!(is_match("/[!a-c]x", "/dx"));
        assert!(is_match("/@(a|b)", "/b"));
        assert!(is_match("/!(a|b)", "/c"));
        assert!(!is_match("/!(a|b)", "/a"));
        assert!(is_match("/+(ab)", "/abab"));
        assert!(is_match("pki-*", "pki-syncs"));
        assert!(!is_match("\\", "secrets"));
    }
}
