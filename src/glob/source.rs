//! Regular-expression source for a glob, exactly as picomatch 3.0.2 builds it for
//! `isMatch(value, pattern, { strictSlashes: false })` on a posix platform.
//!
//! Everything works on UTF-16 code units, like the JavaScript original: string lengths, slicing and the
//! produced source all count units, so surrogate pairs may be split the same way picomatch splits them.

use super::regex;

/// UTF-16 text.
pub(crate) type W = Vec<u16>;

/// The longest pattern picomatch accepts (`MAX_LENGTH`), in UTF-16 units.
pub(crate) const MAX_LENGTH: usize = 65_536;

const DOT_LITERAL: &str = "\\.";
const PLUS_LITERAL: &str = "\\+";
const SLASH_LITERAL: &str = "\\/";
const ONE_CHAR: &str = "(?=.)";
const QMARK: &str = "[^/]";
const NO_DOT: &str = "(?!\\.)";
const NO_DOT_SLASH: &str = "(?!\\.{0,1}(?:\\/|$))";
const QMARK_NO_DOT: &str = "[^.\\/]";
const STAR: &str = "[^/]*?";
const GLOBSTAR: &str = "(?:(?:(?!(?:^|\\/)\\.).)*?)";

fn w(text: &str) -> W {
    text.encode_utf16().collect()
}

fn is(text: &[u16], literal: &str) -> bool {
    text.iter().copied().eq(literal.encode_utf16())
}

fn cat(parts: &[&[u16]]) -> W {
    parts.concat()
}

fn u(c: char) -> u16 {
    c as u16
}

/// How JavaScript renders a possibly undefined string in a concatenation.
fn js(text: &Option<W>) -> W {
    match text {
        Some(text) => text.clone(),
        None => w("undefined"),
    }
}

/// `text.slice(0, -n)`: note that `-0` keeps nothing.
fn drop_last(text: &[u16], n: usize) -> W {
    if n == 0 { Vec::new() } else { text[..text.len().saturating_sub(n)].to_vec() }
}

fn contains(text: &[u16], c: char) -> bool {
    text.contains(&u(c))
}

fn is_word(c: u16) -> bool {
    c < 128 && ((c as u8).is_ascii_alphanumeric() || c == u('_'))
}

fn is_line_terminator(c: u16) -> bool {
    matches!(c, 0x0a | 0x0d | 0x2028 | 0x2029)
}

fn is_js_space(c: u16) -> bool {
    matches!(
        c,
        0x09 | 0x0a | 0x0b | 0x0c | 0x0d | 0x20 | 0xa0 | 0x1680 | 0x2000
            ..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000 | 0xfeff
    )
}

/// `String.prototype.trim`.
fn trim(text: &[u16]) -> &[u16] {
    let start = text.iter().position(|&c| !is_js_space(c)).unwrap_or(text.len());
    let end = text.iter().rposition(|&c| !is_js_space(c)).map_or(start, |it| it + 1);
    &text[start..end.max(start)]
}

/// `utils.escapeRegex`: a backslash before each of `-*+?.^${}(|)[]`.
fn escape_regex(text: &[u16]) -> W {
    let mut out = Vec::with_capacity(text.len());
    for &c in text {
        if c < 128 && b"-*+?.^${}(|)[]".contains(&(c as u8)) {
            out.push(u('\\'));
        }
        out.push(c);
    }
    out
}

/// `utils.hasRegexChars`.
fn has_regex_chars(text: &[u16]) -> bool {
    text.iter().any(|&c| c < 128 && b"-*+?.^${}(|)[]".contains(&(c as u8)))
}

/// `utils.escapeLast` applied `times` times. Each application puts a backslash before the last `c` that no
/// backslash precedes, which changes no other `c`'s predecessor, so together they escape the last `times`
/// such `c`s of the input.
fn escape_last_times(input: W, c: char, times: usize) -> W {
    if times == 0 {
        return input;
    }
    let mut escaped = Vec::with_capacity(times);
    for index in (0..input.len()).rev() {
        if escaped.len() == times {
            break;
        }
        if input[index] == u(c) && (index == 0 || input[index - 1] != u('\\')) {
            escaped.push(index);
        }
    }
    let mut out = Vec::with_capacity(input.len() + escaped.len());
    let mut next = escaped.pop();
    for (index, &unit) in input.iter().enumerate() {
        if next == Some(index) {
            out.push(u('\\'));
            next = escaped.pop();
        }
        out.push(unit);
    }
    out
}

/// `utils.removePrefix`.
fn remove_prefix(input: &[u16]) -> &[u16] {
    if input.starts_with(&[u('.'), u('/')]) { &input[2..] } else { input }
}

/// `constants.REPLACEMENTS`.
fn replacement(input: &[u16]) -> Option<W> {
    if is(input, "***") {
        Some(w("*"))
    } else if is(input, "**/**") || is(input, "**/**/**") {
        Some(w("**"))
    } else {
        None
    }
}

/// What picomatch's `makeRe` turns `input` into: the regex source, or `None` when picomatch throws.
/// Whether the source is a valid JavaScript regex is not checked here.
pub(crate) fn make_re(input: &[u16]) -> Option<W> {
    if input.is_empty() {
        return None;
    }
    let mut parsed = None;
    if input[0] == u('.') || input[0] == u('*') {
        if input.len() > MAX_LENGTH {
            return None;
        }
        parsed = fastpaths(input).filter(|it| !it.is_empty()).map(|it| (it, false));
    }
    let (output, negated) = match parsed {
        Some(it) => it,
        None => {
            let state = parse(input, true)?;
            (state.output, state.negated)
        }
    };
    let mut source = cat(&[&w("^(?:"), &output, &w(")$")]);
    if negated {
        source = cat(&[&w("^(?!"), &source, &w(").*$")]);
    }
    Some(source)
}

/// `parse.fastpaths`.
fn fastpaths(input: &[u16]) -> Option<W> {
    let replaced = replacement(input);
    let input = replaced.as_deref().unwrap_or(input);
    let output = remove_prefix(input);
    let mut source = create(output)?;
    source.extend(w("\\/?"));
    Some(source)
}

fn create(text: &[u16]) -> Option<W> {
    let globstar = GLOBSTAR;
    let base = |text: &[u16]| -> Option<String> {
        let s = String::from_utf16(text).ok()?;
        Some(match s.as_str() {
            "*" => format!("{NO_DOT}{ONE_CHAR}{STAR}"),
            ".*" => format!("{DOT_LITERAL}{ONE_CHAR}{STAR}"),
            "*.*" => format!("{NO_DOT}{STAR}{DOT_LITERAL}{ONE_CHAR}{STAR}"),
            "*/*" => format!("{NO_DOT}{STAR}{SLASH_LITERAL}{ONE_CHAR}{NO_DOT}{STAR}"),
            "**" => format!("{NO_DOT}{globstar}"),
            "**/*" => format!("(?:{NO_DOT}{globstar}{SLASH_LITERAL})?{NO_DOT}{ONE_CHAR}{STAR}"),
            "**/*.*" => format!("(?:{NO_DOT}{globstar}{SLASH_LITERAL})?{NO_DOT}{STAR}{DOT_LITERAL}{ONE_CHAR}{STAR}"),
            "**/.*" => {
                format!("(?:{NO_DOT}{globstar}{SLASH_LITERAL})?{DOT_LITERAL}{ONE_CHAR}{STAR}")
            }
            _ => return None,
        })
    };
    // `/^(.*?)\.(\w+)$/` applied repeatedly: peel `.ext` suffixes off the end.
    let mut rest = text;
    let mut suffixes: Vec<&[u16]> = Vec::new();
    loop {
        if let Some(source) = base(rest) {
            let mut out = w(&source);
            for suffix in suffixes.iter().rev() {
                out.extend(w(DOT_LITERAL));
                out.extend_from_slice(suffix);
            }
            return Some(out);
        }
        let dot = rest.iter().rposition(|&c| c == u('.'))?;
        let (head, ext) = (&rest[..dot], &rest[dot + 1..]);
        if ext.is_empty() || !ext.iter().all(|&c| is_word(c)) || head.iter().any(|&c| is_line_terminator(c)) {
            return None;
        }
        suffixes.push(ext);
        rest = head;
    }
}

pub(crate) struct State {
    pub(crate) output: W,
    pub(crate) negated: bool,
}

#[derive(Clone, Default)]
struct Tok {
    kind: &'static str,
    value: W,
    output: Option<W>,
    prev: Option<usize>,
    star: bool,
    posix: bool,
    extglob: bool,
    comma: bool,
    dots: bool,
    output_index: usize,
    tokens_index: usize,
}

fn tok(kind: &'static str, value: W, output: Option<W>) -> Tok {
    Tok { kind, value, output, ..Tok::default() }
}

struct Ext {
    kind: &'static str,
    close: W,
    inner: W,
    parens: i64,
    output: W,
    start_index: isize,
    tokens_index: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Counter {
    Brackets,
    Braces,
    Parens,
}

struct Parser {
    input: W,
    len: isize,
    index: isize,
    start: isize,
    output: W,
    backtrack: bool,
    negated: bool,
    brackets: i64,
    braces: i64,
    parens: i64,
    quotes: i64,
    arena: Vec<Tok>,
    tokens: Vec<usize>,
    extglobs: Vec<Ext>,
    brace_stack: Vec<usize>,
    stack: Vec<Counter>,
    prev: usize,
}

/// picomatch's `parse`; `None` when it throws.
pub(crate) fn parse(input: &[u16], fastpaths: bool) -> Option<State> {
    let replaced = replacement(input);
    let input = replaced.as_deref().unwrap_or(input);
    if input.len() > MAX_LENGTH {
        return None;
    }
    let input = remove_prefix(input).to_vec();

    if fastpaths
        && !(input.first().is_some_and(|&c| c == u('*') || c == u('!'))
            || input.iter().any(|&c| c < 128 && b"/()[]{}\"".contains(&(c as u8))))
    {
        return Some(State { output: fast_output(&input), negated: false });
    }

    let len = input.len() as isize;
    let mut parser = Parser {
        input,
        len,
        index: -1,
        start: 0,
        output: Vec::new(),
        backtrack: false,
        negated: false,
        brackets: 0,
        braces: 0,
        parens: 0,
        quotes: 0,
        arena: vec![tok("bos", Vec::new(), Some(Vec::new()))],
        tokens: vec![0],
        extglobs: Vec::new(),
        brace_stack: Vec::new(),
        stack: Vec::new(),
        prev: 0,
    };
    parser.run()?;
    Some(State { output: parser.output, negated: parser.negated })
}

/// The fast path inside `parse` for patterns without slashes, brackets, braces, parentheses or quotes.
fn fast_output(input: &[u16]) -> W {
    let mut backslashes = false;
    let mut out = Vec::new();
    let n = input.len();
    let mut i = 0;
    // `/(\\?)((\W)(\3*))/g`
    while i < n {
        let (esc, first_at) = if input[i] == u('\\') && i + 1 < n && !is_word(input[i + 1]) {
            (true, i + 1)
        } else if !is_word(input[i]) {
            (false, i)
        } else {
            out.push(input[i]);
            i += 1;
            continue;
        };
        let first = input[first_at];
        let mut end = first_at + 1;
        while end < n && input[end] == first {
            end += 1;
        }
        let whole = &input[i..end];
        let chars_len = end - first_at;
        let rest_len = chars_len - 1;
        let index = i;
        i = end;
        let esc_text: &[u16] = if esc { &[92] } else { &[] };
        if first == u('\\') {
            backslashes = true;
            out.extend_from_slice(whole);
        } else if first == u('?') {
            if esc {
                out.extend_from_slice(esc_text);
                out.push(first);
                out.extend(w(&QMARK.repeat(rest_len)));
            } else if index == 0 {
                out.extend(w(QMARK_NO_DOT));
                out.extend(w(&QMARK.repeat(rest_len)));
            } else {
                out.extend(w(&QMARK.repeat(chars_len)));
            }
        } else if first == u('.') {
            out.extend(w(&DOT_LITERAL.repeat(chars_len)));
        } else if first == u('*') {
            if esc {
                out.extend_from_slice(esc_text);
                out.push(first);
                if rest_len > 0 {
                    out.extend(w(STAR));
                }
            } else {
                out.extend(w(STAR));
            }
        } else if esc {
            out.extend_from_slice(whole);
        } else {
            out.push(u('\\'));
            out.extend_from_slice(whole);
        }
    }
    if backslashes {
        let mut collapsed = Vec::with_capacity(out.len());
        let mut j = 0;
        while j < out.len() {
            if out[j] == u('\\') {
                let mut k = j;
                while k < out.len() && out[k] == u('\\') {
                    k += 1;
                }
                collapsed.push(u('\\'));
                if (k - j) % 2 == 0 {
                    collapsed.push(u('\\'));
                }
                j = k;
            } else {
                collapsed.push(out[j]);
                j += 1;
            }
        }
        out = collapsed;
    }
    cat(&[&w("^(?:"), &out, &w(")$")])
}

const POSIX_CLASSES: [(&str, &str); 14] = [
    ("alnum", "a-zA-Z0-9"),
    ("alpha", "a-zA-Z"),
    ("ascii", "\\x00-\\x7F"),
    ("blank", " \\t"),
    ("cntrl", "\\x00-\\x1F\\x7F"),
    ("digit", "0-9"),
    ("graph", "\\x21-\\x7E"),
    ("lower", "a-z"),
    ("print", "\\x20-\\x7E "),
    ("punct", "\\-!\"#$%&'()\\*+,./:;<=>?@[\\]^_`{|}~"),
    ("space", " \\t\\r\\n\\v\\f"),
    ("upper", "A-Z"),
    ("word", "A-Za-z0-9_"),
    ("xdigit", "A-Fa-f0-9"),
];

impl Parser {
    fn eos(&self) -> bool {
        self.index == self.len - 1
    }

    fn peek(&self, n: isize) -> Option<u16> {
        let at = self.index + n;
        if at >= 0 && at < self.len { Some(self.input[at as usize]) } else { None }
    }

    fn peek_is(&self, n: isize, c: char) -> bool {
        self.peek(n) == Some(u(c))
    }

    fn advance(&mut self) -> W {
        self.index += 1;
        if self.index >= 0 && self.index < self.len { vec![self.input[self.index as usize]] } else { Vec::new() }
    }

    fn remaining(&self) -> W {
        let from = (self.index + 1).clamp(0, self.len) as usize;
        self.input[from..].to_vec()
    }

    fn increment(&mut self, counter: Counter) {
        match counter {
            Counter::Brackets => self.brackets += 1,
            Counter::Braces => self.braces += 1,
            Counter::Parens => self.parens += 1,
        }
        self.stack.push(counter);
    }

    fn decrement(&mut self, counter: Counter) {
        match counter {
            Counter::Brackets => self.brackets -= 1,
            Counter::Braces => self.braces -= 1,
            Counter::Parens => self.parens -= 1,
        }
        self.stack.pop();
    }

    fn append(&mut self, token: &Tok) {
        match &token.output {
            Some(output) => self.output.extend_from_slice(output),
            None => self.output.extend_from_slice(&token.value),
        }
    }

    fn push(&mut self, mut token: Tok) -> usize {
        let prev = self.prev;
        if self.arena[prev].kind == "globstar" {
            let is_brace = self.braces > 0 && (token.kind == "comma" || token.kind == "brace");
            let is_extglob =
                token.extglob || (!self.extglobs.is_empty() && (token.kind == "pipe" || token.kind == "paren"));
            if token.kind != "slash" && token.kind != "paren" && !is_brace && !is_extglob {
                let length = js(&self.arena[prev].output).len();
                self.output = drop_last(&self.output, length);
                let p = &mut self.arena[prev];
                p.kind = "star";
                p.value = w("*");
                p.output = Some(w(STAR));
                self.output.extend(w(STAR));
            }
        }
        if token.kind != "paren"
            && let Some(ext) = self.extglobs.last_mut()
        {
            ext.inner.extend_from_slice(&token.value);
        }
        if !token.value.is_empty() || token.output.as_ref().is_some_and(|it| !it.is_empty()) {
            self.append(&token);
        }
        if self.arena[prev].kind == "text" && token.kind == "text" {
            let p = &mut self.arena[prev];
            p.value.extend_from_slice(&token.value);
            let mut output = p.output.take().unwrap_or_default();
            output.extend_from_slice(&token.value);
            p.output = Some(output);
            return prev;
        }
        token.prev = Some(prev);
        self.arena.push(token);
        let id = self.arena.len() - 1;
        self.tokens.push(id);
        self.prev = id;
        id
    }

    fn extglob_open(&mut self, kind: &'static str, value: W) {
        let close = match value.first().copied() {
            Some(c) if c == u('!') => w("))[^/]*?)"),
            Some(c) if c == u('?') => w(")?"),
            Some(c) if c == u('+') => w(")+"),
            Some(c) if c == u('*') => w(")*"),
            _ => w(")"),
        };
        let open = if value.first() == Some(&u('!')) { w("(?:(?!(?:") } else { w("(?:") };
        let ext = Ext {
            kind,
            close,
            inner: Vec::new(),
            parens: self.parens,
            output: self.output.clone(),
            start_index: self.index,
            tokens_index: self.tokens.len(),
        };
        self.increment(Counter::Parens);
        let first_output = if self.output.is_empty() { w(ONE_CHAR) } else { Vec::new() };
        self.push(tok(kind, value, Some(first_output)));
        let paren = self.advance();
        self.push(Tok { extglob: true, ..tok("paren", paren, Some(open)) });
        self.extglobs.push(ext);
    }

    fn extglob_close(&mut self, mut ext: Ext, value: W) -> Option<()> {
        let start = ext.start_index.max(0) as usize;
        let end = (self.index + 1).clamp(0, self.len) as usize;
        let literal = self.input[start.min(end)..end].to_vec();
        let body_start = (start + 2).min(self.index.max(0) as usize);
        let body = self.input[body_start..self.index.max(0) as usize].to_vec();

        if ext.kind == "plus" || ext.kind == "star" {
            let analysis = analyze_repeated_extglob(&body);
            if analysis.risky {
                let safe_output = analysis.safe_output.map(|safe| {
                    let mut out = if ext.output.is_empty() { w(ONE_CHAR) } else { Vec::new() };
                    out.extend(safe);
                    out
                });
                let open_id = *self.tokens.get(ext.tokens_index)?;
                {
                    let open = &mut self.arena[open_id];
                    open.kind = "text";
                    open.output =
                        Some(safe_output.filter(|it| !it.is_empty()).unwrap_or_else(|| escape_regex(&literal)));
                    open.value = literal;
                }
                for i in ext.tokens_index + 1..self.tokens.len() {
                    let id = self.tokens[i];
                    self.arena[id].value = Vec::new();
                    self.arena[id].output = Some(Vec::new());
                }
                self.output = cat(&[&ext.output, &js(&self.arena[open_id].output)]);
                self.backtrack = true;
                self.push(Tok { extglob: true, ..tok("paren", value, Some(Vec::new())) });
                self.decrement(Counter::Parens);
                return Some(());
            }
        }

        let mut output = ext.close.clone();
        if ext.kind == "negate" {
            let mut extglob_star = w(STAR);
            if ext.inner.len() > 1 && contains(&ext.inner, '/') {
                extglob_star = w(GLOBSTAR);
            }
            let remaining = self.remaining();
            if !is(&extglob_star, STAR)
                || self.eos()
                || (!remaining.is_empty() && remaining.iter().all(|&c| c == u(')')))
            {
                ext.close = cat(&[&w(")$))"), &extglob_star]);
                output = ext.close.clone();
            }
            if contains(&ext.inner, '*')
                && !remaining.is_empty()
                && remaining[0] == u('.')
                && remaining.len() > 1
                && remaining[1..].iter().all(|&c| c != u('\\') && c != u('/') && c != u('.'))
            {
                let expression = parse(&remaining, false)?.output;
                ext.close = cat(&[&w(")"), &expression, &w(")"), &extglob_star, &w(")")]);
                output = ext.close.clone();
            }
        }
        self.push(Tok { extglob: true, ..tok("paren", value, Some(output)) });
        self.decrement(Counter::Parens);
        Some(())
    }

    fn negate(&mut self) {
        let mut count = 1;
        while self.peek_is(1, '!') && (!self.peek_is(2, '(') || self.peek_is(3, '?')) {
            self.advance();
            self.start += 1;
            count += 1;
        }
        if count % 2 == 0 {
            return;
        }
        self.negated = true;
        self.start += 1;
    }

    fn run(&mut self) -> Option<()> {
        while !self.eos() {
            let mut value = self.advance();
            if value == [0] {
                continue;
            }

            // Escaped characters.
            if value == [u('\\')] {
                let next = self.peek(1);
                if next == Some(u('/')) || next == Some(u('.')) || next == Some(u(';')) {
                    continue;
                }
                if next.is_none() {
                    value.push(u('\\'));
                    self.push(tok("text", value, None));
                    continue;
                }
                let remaining = self.remaining();
                let run = remaining.iter().take_while(|&&it| it == u('\\')).count();
                if run > 2 {
                    self.index += run as isize;
                    if run % 2 != 0 {
                        value.push(u('\\'));
                    }
                }
                let next = self.advance();
                value.extend(next);
                if self.brackets == 0 {
                    self.push(tok("text", value, None));
                    continue;
                }
            }

            // Inside a character class.
            let prev = self.prev;
            if self.brackets > 0
                && (!is(&value, "]") || is(&self.arena[prev].value, "[") || is(&self.arena[prev].value, "[^"))
            {
                if is(&value, ":") {
                    let inner = self.arena[prev].value[1.min(self.arena[prev].value.len())..].to_vec();
                    if contains(&inner, '[') {
                        self.arena[prev].posix = true;
                        if contains(&inner, ':') {
                            let pv = self.arena[prev].value.clone();
                            let idx = pv.iter().rposition(|&it| it == u('[')).unwrap_or(0);
                            let pre = &pv[..idx];
                            let rest = &pv[(idx + 2).min(pv.len())..];
                            if let Some((_, posix)) = POSIX_CLASSES.iter().find(|(name, _)| is(rest, name)) {
                                self.arena[prev].value = cat(&[pre, &w(posix)]);
                                self.backtrack = true;
                                self.advance();
                                if self.arena[0].output.as_ref().is_none_or(|it| it.is_empty())
                                    && self.tokens.get(1) == Some(&prev)
                                {
                                    self.arena[0].output = Some(w(ONE_CHAR));
                                }
                                continue;
                            }
                        }
                    }
                }
                if (is(&value, "[") && !self.peek_is(1, ':')) || (is(&value, "-") && self.peek_is(1, ']')) {
                    value.insert(0, u('\\'));
                }
                if is(&value, "]") && (is(&self.arena[prev].value, "[") || is(&self.arena[prev].value, "[^")) {
                    value.insert(0, u('\\'));
                }
                self.arena[prev].value.extend_from_slice(&value);
                self.output.extend_from_slice(&value);
                continue;
            }

            // Inside a quoted string.
            if self.quotes == 1 && !is(&value, "\"") {
                let value = escape_regex(&value);
                self.arena[prev].value.extend_from_slice(&value);
                self.output.extend_from_slice(&value);
                continue;
            }

            if is(&value, "\"") {
                self.quotes = if self.quotes == 1 { 0 } else { 1 };
                continue;
            }

            // Parentheses.
            if is(&value, "(") {
                self.increment(Counter::Parens);
                self.push(tok("paren", value, None));
                continue;
            }

            if is(&value, ")") {
                if let Some(ext) = self.extglobs.last()
                    && self.parens == ext.parens + 1
                {
                    let ext = self.extglobs.pop()?;
                    self.extglob_close(ext, value)?;
                    continue;
                }
                let output = if self.parens != 0 { w(")") } else { w("\\)") };
                self.push(tok("paren", value, Some(output)));
                self.decrement(Counter::Parens);
                continue;
            }

            // Square brackets.
            if is(&value, "[") {
                if !contains(&self.remaining(), ']') {
                    value = w("\\[");
                } else {
                    self.increment(Counter::Brackets);
                }
                self.push(tok("bracket", value, None));
                continue;
            }

            if is(&value, "]") {
                if self.arena[prev].kind == "bracket" && self.arena[prev].value.len() == 1 {
                    self.push(tok("text", value, Some(w("\\]"))));
                    continue;
                }
                if self.brackets == 0 {
                    self.push(tok("text", value, Some(w("\\]"))));
                    continue;
                }
                self.decrement(Counter::Brackets);
                let prev_value = self.arena[prev].value[1.min(self.arena[prev].value.len())..].to_vec();
                if !self.arena[prev].posix && prev_value.first() == Some(&u('^')) && !contains(&prev_value, '/') {
                    value = w("/]");
                }
                self.arena[prev].value.extend_from_slice(&value);
                self.output.extend_from_slice(&value);
                if has_regex_chars(&prev_value) {
                    continue;
                }
                let escaped = escape_regex(&self.arena[prev].value);
                let length = self.arena[prev].value.len();
                self.output = drop_last(&self.output, length);
                let new_value = cat(&[&w("(?:"), &escaped, &w("|"), &self.arena[prev].value, &w(")")]);
                self.output.extend_from_slice(&new_value);
                self.arena[prev].value = new_value;
                continue;
            }

            // Braces.
            if is(&value, "{") {
                self.increment(Counter::Braces);
                let open = Tok {
                    output_index: self.output.len(),
                    tokens_index: self.tokens.len(),
                    ..tok("brace", value, Some(w("(")))
                };
                let id = self.push(open);
                self.brace_stack.push(id);
                continue;
            }

            if is(&value, "}") {
                let Some(&brace) = self.brace_stack.last() else {
                    self.push(tok("text", value.clone(), Some(value)));
                    continue;
                };
                let mut output = w(")");
                if self.arena[brace].dots {
                    let arr = self.tokens.clone();
                    let mut range: Vec<W> = Vec::new();
                    for &id in arr.iter().rev() {
                        self.tokens.pop();
                        if self.arena[id].kind == "brace" {
                            break;
                        }
                        if self.arena[id].kind != "dots" {
                            range.insert(0, self.arena[id].value.clone());
                        }
                    }
                    output = expand_range(range);
                    self.backtrack = true;
                }
                if !self.arena[brace].comma && !self.arena[brace].dots {
                    let out = self.output[..self.arena[brace].output_index.min(self.output.len())].to_vec();
                    let from = self.arena[brace].tokens_index.min(self.tokens.len());
                    let toks = self.tokens[from..].to_vec();
                    self.arena[brace].value = w("\\{");
                    self.arena[brace].output = Some(w("\\{"));
                    value = w("\\}");
                    output = w("\\}");
                    self.output = out;
                    for id in toks {
                        let t = &self.arena[id];
                        match &t.output {
                            Some(o) if !o.is_empty() => self.output.extend_from_slice(o),
                            _ => self.output.extend_from_slice(&t.value),
                        }
                    }
                }
                self.push(tok("brace", value, Some(output)));
                self.decrement(Counter::Braces);
                self.brace_stack.pop();
                continue;
            }

            // Pipes.
            if is(&value, "|") {
                self.push(tok("text", value, None));
                continue;
            }

            // Commas.
            if is(&value, ",") {
                let mut output = value.clone();
                if let Some(&brace) = self.brace_stack.last()
                    && self.stack.last() == Some(&Counter::Braces)
                {
                    self.arena[brace].comma = true;
                    output = w("|");
                }
                self.push(tok("comma", value, Some(output)));
                continue;
            }

            // Slashes.
            if is(&value, "/") {
                if self.arena[prev].kind == "dot" && self.index == self.start + 1 {
                    self.start = self.index + 1;
                    self.output = Vec::new();
                    self.tokens.pop();
                    self.prev = 0;
                    continue;
                }
                self.push(tok("slash", value, Some(w(SLASH_LITERAL))));
                continue;
            }

            // Dots.
            if is(&value, ".") {
                if self.braces > 0 && self.arena[prev].kind == "dot" {
                    if is(&self.arena[prev].value, ".") {
                        self.arena[prev].output = Some(w(DOT_LITERAL));
                    }
                    let p = &mut self.arena[prev];
                    p.kind = "dots";
                    let mut output = js(&p.output);
                    output.extend_from_slice(&value);
                    p.output = Some(output);
                    p.value.extend_from_slice(&value);
                    if let Some(&brace) = self.brace_stack.last() {
                        self.arena[brace].dots = true;
                    } else {
                        return None;
                    }
                    continue;
                }
                if self.braces + self.parens == 0 && self.arena[prev].kind != "bos" && self.arena[prev].kind != "slash"
                {
                    self.push(tok("text", value, Some(w(DOT_LITERAL))));
                    continue;
                }
                self.push(tok("dot", value, Some(w(DOT_LITERAL))));
                continue;
            }

            // Question marks.
            if is(&value, "?") {
                let is_group = is(&self.arena[prev].value, "(");
                if !is_group && self.peek_is(1, '(') && !self.peek_is(2, '?') {
                    self.extglob_open("qmark", value);
                    continue;
                }
                if self.arena[prev].kind == "paren" {
                    let next = self.peek(1);
                    let mut output = value.clone();
                    let special = |c: Option<u16>| c.is_some_and(|c| c < 128 && b"!=<:".contains(&(c as u8)));
                    if (is(&self.arena[prev].value, "(") && !special(next))
                        || (next == Some(u('<')) && !lookbehind_ahead(&self.remaining()))
                    {
                        output = w("\\?");
                    }
                    self.push(tok("text", value, Some(output)));
                    continue;
                }
                if self.arena[prev].kind == "slash" || self.arena[prev].kind == "bos" {
                    self.push(tok("qmark", value, Some(w(QMARK_NO_DOT))));
                    continue;
                }
                self.push(tok("qmark", value, Some(w(QMARK))));
                continue;
            }

            // Exclamation.
            if is(&value, "!") {
                if self.peek_is(1, '(') {
                    let third = self.peek(3);
                    let special = third.is_some_and(|c| c < 128 && b"!=<:".contains(&(c as u8)));
                    if !self.peek_is(2, '?') || !special {
                        self.extglob_open("negate", value);
                        continue;
                    }
                }
                if self.index == 0 {
                    self.negate();
                    continue;
                }
            }

            // Plus.
            if is(&value, "+") {
                if self.peek_is(1, '(') && !self.peek_is(2, '?') {
                    self.extglob_open("plus", value);
                    continue;
                }
                if is(&self.arena[prev].value, "(") {
                    self.push(tok("plus", value, Some(w(PLUS_LITERAL))));
                    continue;
                }
                let kind = self.arena[prev].kind;
                if kind == "bracket" || kind == "paren" || kind == "brace" || self.parens > 0 {
                    self.push(tok("plus", value, None));
                    continue;
                }
                self.push(tok("plus", w(PLUS_LITERAL), None));
                continue;
            }

            // At.
            if is(&value, "@") {
                if self.peek_is(1, '(') && !self.peek_is(2, '?') {
                    self.push(Tok { extglob: true, ..tok("at", value, Some(Vec::new())) });
                    continue;
                }
                self.push(tok("text", value, None));
                continue;
            }

            // Plain text.
            if !is(&value, "*") {
                if is(&value, "$") || is(&value, "^") {
                    value.insert(0, u('\\'));
                }
                let remaining = self.remaining();
                let run = remaining
                    .iter()
                    .take_while(|&&it| !(it < 128 && b"@![].,$*+?^{}()|\\/".contains(&(it as u8))))
                    .count();
                if run > 0 {
                    value.extend_from_slice(&remaining[..run]);
                    self.index += run as isize;
                }
                self.push(tok("text", value, None));
                continue;
            }

            // Stars.
            if self.arena[prev].kind == "globstar" || self.arena[prev].star {
                let p = &mut self.arena[prev];
                p.kind = "star";
                p.star = true;
                p.value.extend_from_slice(&value);
                p.output = Some(w(STAR));
                self.backtrack = true;
                continue;
            }

            let mut rest = self.remaining();
            if rest.len() >= 2 && rest[0] == u('(') && rest[1] != u('?') {
                self.extglob_open("star", value);
                continue;
            }

            if self.arena[prev].kind == "star" {
                let prior = self.arena[prev].prev?;
                let before = self.arena[prior].prev;
                let prior_kind = self.arena[prior].kind;
                let is_start = prior_kind == "slash" || prior_kind == "bos";
                let after_star =
                    before.is_some_and(|b| self.arena[b].kind == "star" || self.arena[b].kind == "globstar");
                let is_brace = self.braces > 0 && (prior_kind == "comma" || prior_kind == "brace");
                let is_extglob = !self.extglobs.is_empty() && (prior_kind == "pipe" || prior_kind == "paren");
                if !is_start && prior_kind != "paren" && !is_brace && !is_extglob {
                    self.push(tok("star", value, Some(Vec::new())));
                    continue;
                }

                while rest.starts_with(&[u('/'), u('*'), u('*')]) {
                    let after = self.peek(4);
                    if after.is_some_and(|it| it != u('/')) {
                        break;
                    }
                    rest = rest[3..].to_vec();
                    self.index += 3;
                }

                let prior_prev_bos = self.arena[prior].prev.is_some_and(|it| self.arena[it].kind == "bos");
                if prior_kind == "bos" && self.eos() {
                    let p = &mut self.arena[prev];
                    p.kind = "globstar";
                    p.value.extend_from_slice(&value);
                    p.output = Some(w(GLOBSTAR));
                    self.output = w(GLOBSTAR);
                    continue;
                }

                if prior_kind == "slash" && !prior_prev_bos && !after_star && self.eos() {
                    let length = js(&self.arena[prior].output).len() + js(&self.arena[prev].output).len();
                    self.output = drop_last(&self.output, length);
                    let prior_output = cat(&[&w("(?:"), &js(&self.arena[prior].output)]);
                    self.arena[prior].output = Some(prior_output.clone());
                    let prev_output = w(&format!("{GLOBSTAR}|$)"));
                    let p = &mut self.arena[prev];
                    p.kind = "globstar";
                    p.output = Some(prev_output.clone());
                    p.value.extend_from_slice(&value);
                    self.output.extend(prior_output);
                    self.output.extend(prev_output);
                    continue;
                }

                if prior_kind == "slash" && !prior_prev_bos && rest.first() == Some(&u('/')) {
                    let end = if rest.len() > 1 { "|$" } else { "" };
                    let length = js(&self.arena[prior].output).len() + js(&self.arena[prev].output).len();
                    self.output = drop_last(&self.output, length);
                    let prior_output = cat(&[&w("(?:"), &js(&self.arena[prior].output)]);
                    self.arena[prior].output = Some(prior_output.clone());
                    let prev_output = w(&format!("{GLOBSTAR}{SLASH_LITERAL}|{SLASH_LITERAL}{end})"));
                    let p = &mut self.arena[prev];
                    p.kind = "globstar";
                    p.output = Some(prev_output.clone());
                    p.value.extend_from_slice(&value);
                    self.output.extend(prior_output);
                    self.output.extend(prev_output);
                    self.advance();
                    self.push(tok("slash", w("/"), Some(Vec::new())));
                    continue;
                }

                if prior_kind == "bos" && rest.first() == Some(&u('/')) {
                    let output = w(&format!("(?:^|{SLASH_LITERAL}|{GLOBSTAR}{SLASH_LITERAL})"));
                    let p = &mut self.arena[prev];
                    p.kind = "globstar";
                    p.value.extend_from_slice(&value);
                    p.output = Some(output.clone());
                    self.output = output;
                    self.advance();
                    self.push(tok("slash", w("/"), Some(Vec::new())));
                    continue;
                }

                let length = js(&self.arena[prev].output).len();
                self.output = drop_last(&self.output, length);
                let p = &mut self.arena[prev];
                p.kind = "globstar";
                p.output = Some(w(GLOBSTAR));
                p.value.extend_from_slice(&value);
                self.output.extend(w(GLOBSTAR));
                continue;
            }

            let token = tok("star", value, Some(w(STAR)));
            let prev_kind = self.arena[prev].kind;
            if self.index == self.start || prev_kind == "slash" || prev_kind == "dot" {
                let addition = if prev_kind == "dot" { NO_DOT_SLASH } else { NO_DOT };
                let mut addition = w(addition);
                if !self.peek_is(1, '*') {
                    addition.extend(w(ONE_CHAR));
                }
                self.output.extend_from_slice(&addition);
                let mut output = js(&self.arena[prev].output);
                output.extend(addition);
                self.arena[prev].output = Some(output);
            }
            self.push(token);
        }

        // picomatch calls `escapeLast` once per unclosed bracket, parenthesis and brace, each call copying the
        // whole output (quadratic for thousands of them): `escape_last_times` does the same in one pass.
        let unclosed = self.brackets.max(0) as usize;
        self.output = escape_last_times(std::mem::take(&mut self.output), '[', unclosed);
        while self.brackets > 0 {
            self.decrement(Counter::Brackets);
        }
        let unclosed = self.parens.max(0) as usize;
        self.output = escape_last_times(std::mem::take(&mut self.output), '(', unclosed);
        while self.parens > 0 {
            self.decrement(Counter::Parens);
        }
        let unclosed = self.braces.max(0) as usize;
        self.output = escape_last_times(std::mem::take(&mut self.output), '{', unclosed);
        while self.braces > 0 {
            self.decrement(Counter::Braces);
        }

        let prev_kind = self.arena[self.prev].kind;
        if prev_kind == "star" || prev_kind == "bracket" {
            self.push(tok("maybe_slash", Vec::new(), Some(w("\\/?"))));
        }

        if self.backtrack {
            let mut output = Vec::new();
            for &id in &self.tokens {
                let t = &self.arena[id];
                match &t.output {
                    Some(o) => output.extend_from_slice(o),
                    None => output.extend_from_slice(&t.value),
                }
            }
            self.output = output;
        }
        Some(())
    }
}

/// `/<([!=]|\w+>)/.test(remaining)`.
fn lookbehind_ahead(text: &[u16]) -> bool {
    (0..text.len()).any(|i| {
        if text[i] != u('<') {
            return false;
        }
        match text.get(i + 1) {
            Some(&c) if c == u('!') || c == u('=') => true,
            Some(&c) if is_word(c) => {
                let run = text[i + 1..].iter().take_while(|&&it| is_word(it)).count();
                text.get(i + 1 + run) == Some(&u('>'))
            }
            _ => false,
        }
    })
}

/// `expandRange` for `{a..b}`: a character class when it is a valid regex, otherwise the escaped bounds.
fn expand_range(mut args: Vec<W>) -> W {
    args.sort();
    let mut value = w("[");
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            value.push(u('-'));
        }
        value.extend_from_slice(arg);
    }
    value.push(u(']'));
    if regex::Regex::parse(&value).is_ok() {
        return value;
    }
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.extend(w(".."));
        }
        out.extend(escape_regex(arg));
    }
    out
}

struct Analysis {
    risky: bool,
    safe_output: Option<W>,
}

/// `splitTopLevel`: split on `|` outside brackets, parentheses and quotes.
fn split_top_level(input: &[u16]) -> Vec<W> {
    let mut parts = Vec::new();
    let (mut bracket, mut paren, mut quote) = (0i64, 0i64, 0);
    let mut value = Vec::new();
    let mut escaped = false;
    for &ch in input {
        if escaped {
            value.push(ch);
            escaped = false;
            continue;
        }
        if ch == u('\\') {
            value.push(ch);
            escaped = true;
            continue;
        }
        if ch == u('"') {
            quote = if quote == 1 { 0 } else { 1 };
            value.push(ch);
            continue;
        }
        if quote == 0 {
            if ch == u('[') {
                bracket += 1;
            } else if ch == u(']') && bracket > 0 {
                bracket -= 1;
            } else if bracket == 0 {
                if ch == u('(') {
                    paren += 1;
                } else if ch == u(')') && paren > 0 {
                    paren -= 1;
                } else if ch == u('|') && paren == 0 {
                    parts.push(std::mem::take(&mut value));
                    continue;
                }
            }
        }
        value.push(ch);
    }
    parts.push(value);
    parts
}

fn is_plain_branch(branch: &[u16]) -> bool {
    let mut escaped = false;
    for &ch in branch {
        if escaped {
            escaped = false;
            continue;
        }
        if ch == u('\\') {
            escaped = true;
            continue;
        }
        if ch < 128 && b"?*+@!()[]{}".contains(&(ch as u8)) {
            return false;
        }
    }
    true
}

/// `normalizeSimpleBranch`; `None` stands for `undefined`.
fn normalize_simple_branch(branch: &[u16]) -> Option<W> {
    let mut value = trim(branch).to_vec();
    // `/^@\([^\\()[\]{}|]+\)$/`
    while value.len() > 3
        && value[0] == u('@')
        && value[1] == u('(')
        && value[value.len() - 1] == u(')')
        && value[2..value.len() - 1].iter().all(|&c| !(c < 128 && b"\\()[]{}|".contains(&(c as u8))))
    {
        value = value[2..value.len() - 1].to_vec();
    }
    if !is_plain_branch(&value) {
        return None;
    }
    // `.replace(/\\(.)/g, '$1')`
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == u('\\') && i + 1 < value.len() && !is_line_terminator(value[i + 1]) {
            out.push(value[i + 1]);
            i += 2;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    Some(out)
}

fn has_repeated_char_prefix_overlap(branches: &[W]) -> bool {
    let values: Vec<W> =
        branches.iter().filter_map(|it| normalize_simple_branch(it)).filter(|it| !it.is_empty()).collect();
    for i in 0..values.len() {
        for j in i + 1..values.len() {
            let (a, b) = (&values[i], &values[j]);
            let c = a[0];
            if !a.iter().all(|&it| it == c) || !b.iter().all(|&it| it == c) {
                continue;
            }
            if a == b || a.starts_with(b) || b.starts_with(a) {
                return true;
            }
        }
    }
    false
}

struct Repeated {
    kind: u16,
    body: W,
    end: usize,
}

/// `parseRepeatedExtglob`.
fn parse_repeated_extglob(pattern: &[u16], require_end: bool) -> Option<Repeated> {
    if pattern.len() < 2 || (pattern[0] != u('+') && pattern[0] != u('*')) || pattern[1] != u('(') {
        return None;
    }
    let (mut bracket, mut paren, mut quote) = (0i64, 0i64, 0);
    let mut escaped = false;
    for i in 1..pattern.len() {
        let ch = pattern[i];
        if escaped {
            escaped = false;
            continue;
        }
        if ch == u('\\') {
            escaped = true;
            continue;
        }
        if ch == u('"') {
            quote = if quote == 1 { 0 } else { 1 };
            continue;
        }
        if quote == 1 {
            continue;
        }
        if ch == u('[') {
            bracket += 1;
            continue;
        }
        if ch == u(']') && bracket > 0 {
            bracket -= 1;
            continue;
        }
        if bracket > 0 {
            continue;
        }
        if ch == u('(') {
            paren += 1;
            continue;
        }
        if ch == u(')') {
            paren -= 1;
            if paren == 0 {
                if require_end && i != pattern.len() - 1 {
                    return None;
                }
                return Some(Repeated { kind: pattern[0], body: pattern[2..i].to_vec(), end: i });
            }
        }
    }
    None
}

/// `getStarExtglobSequenceOutput`.
fn star_extglob_sequence_output(pattern: &[u16]) -> Option<W> {
    let mut index = 0;
    let mut chars: Vec<W> = Vec::new();
    while index < pattern.len() {
        let found = parse_repeated_extglob(&pattern[index..], false)?;
        if found.kind != u('*') {
            return None;
        }
        let branches = split_top_level(&found.body);
        if branches.len() != 1 {
            return None;
        }
        let branch = normalize_simple_branch(trim(&branches[0]))?;
        if branch.len() != 1 {
            return None;
        }
        chars.push(branch);
        index += found.end + 1;
    }
    if chars.is_empty() {
        return None;
    }
    let mut source = if chars.len() == 1 {
        escape_regex(&chars[0])
    } else {
        let mut source = w("[");
        for c in &chars {
            source.extend(escape_regex(c));
        }
        source.push(u(']'));
        source
    };
    source.push(u('*'));
    Some(source)
}

/// `repeatedExtglobRecursion`.
fn repeated_extglob_recursion(pattern: &[u16]) -> usize {
    let mut depth = 0;
    let mut found = parse_repeated_extglob(trim(pattern), true);
    while let Some(it) = found {
        depth += 1;
        found = parse_repeated_extglob(trim(&it.body), true);
    }
    depth
}

/// `analyzeRepeatedExtglob` with the default `maxExtglobRecursion` of 0.
fn analyze_repeated_extglob(body: &[u16]) -> Analysis {
    let branches: Vec<W> = split_top_level(body).iter().map(|it| trim(it).to_vec()).collect();
    if branches.len() > 1
        && (branches.iter().any(|it| it.is_empty())
            || branches.iter().any(|it| it.iter().all(|&c| c == u('*') || c == u('?')))
            || has_repeated_char_prefix_overlap(&branches))
    {
        return Analysis { risky: true, safe_output: None };
    }
    for branch in &branches {
        if let Some(safe_output) = star_extglob_sequence_output(branch) {
            return Analysis { risky: true, safe_output: Some(safe_output) };
        }
        if repeated_extglob_recursion(branch) > 0 {
            return Analysis { risky: true, safe_output: None };
        }
    }
    Analysis { risky: false, safe_output: None }
}
