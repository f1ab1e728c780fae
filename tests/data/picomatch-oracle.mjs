// Writes picomatch-oracle.jsonl: picomatch's own answers for a fixed corpus of glob patterns, which
// `src/glob/tests.rs` compares permc's port against.
//
// Regenerate with (from the repository root, picomatch 3.0.2 installed somewhere, e.g. `npm i picomatch@3.0.2`
// in /tmp/pm):
//
//     node tests/data/picomatch-oracle.mjs /tmp/pm/node_modules/picomatch > tests/data/picomatch-oracle.jsonl
//
// or with the module path in `PICOMATCH` instead of the argument. The output is deterministic: the same
// picomatch gives the same file byte for byte.
//
// One JSON object per line:
//
//     {"p": pattern, "src": source, "cases": [[value, isMatch], ...]}
//
// where `src` is `picomatch.makeRe(p, { strictSlashes: false }).source` (`$^` when the generated source is
// not a valid regex, `THROW` when picomatch throws) and `isMatch` is
// `picomatch.isMatch(value, p, { strictSlashes: false })` (`false` when picomatch throws).
//
// The corpus is a list of handwritten patterns (secret paths, braces, ranges, extglobs, classes, escapes,
// dotfiles, unbalanced and regex-special input, unicode) followed by seeded pseudo-random ones. The values
// of each pattern are drawn from a pool of paths and derived from the pattern itself (the pattern, its
// metacharacters replaced by sample text, with a suffix, a dotfile, a trailing slash, the empty string) so
// that both answers occur.

import { createRequire } from 'node:module';
import path from 'node:path';

const modulePath = process.argv[2] ?? process.env.PICOMATCH;
if (!modulePath) {
  console.error('usage: node picomatch-oracle.mjs PATH/TO/node_modules/picomatch > picomatch-oracle.jsonl');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const picomatch = require(path.resolve(modulePath));
const version = require(path.join(path.resolve(modulePath), 'package.json')).version;
if (version !== '3.0.2') {
  console.error(`expected picomatch 3.0.2, found ${version}`);
  process.exit(2);
}
const OPTIONS = { strictSlashes: false };

// mulberry32: a small seeded generator, so that the corpus is reproducible.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(0x5eed_61ab);
const int = n => Math.floor(random() * n);
const pick = list => list[int(list.length)];
const chance = p => random() < p;

// ---------------------------------------------------------------------------------------------------------
// Handwritten patterns.

const HANDWRITTEN = [
  // Empty-ish.
  '', ' ', '  ', '\t', '/', '//', '.', '..', '...', './', './/', '/.', '/..', '!', '!!', '\\', '\\\\', '$', '^',
  // Secret paths.
  '*', '**', '/*', '/**', '/app', '/app/*', '/app/**', '/app/**/*', '/app/*/config', '/app/*/*', '/**/db',
  '/**/db/**', '/app/**/db', '/app/**/x/**/y', 'a/**/b', '**/a/**', '/**a/b', '/a/**b', '/app/***', 'a/***',
  '/app/config', 'app/config', '/app/db/password', '/{a,b}/**', '/{app,api}/*', '/{app,api}/{dev,prod}/**',
  '/svc-[0-9]/*', '/svc-[0-9][0-9]/**', '/svc-*/db', '/svc-?/db', '/team-*-[a-z]/**', '/app/*.json',
  '/app/**/*.json', '/app/**/*.{json,yaml}', '/app/[!.]*', '/app/*/*/**', '/*/*', '/*/', '/**/', '**/',
  '*/', 'app/', '/app/', '/app/*/', '/app/**/', '/app//x', '//app', '/app/./x', '/app/../x', '../x', '/app/x/',
  // Negation.
  '!/app/**', '!/app/*', '!!/app/*', '!!!/app/*', '!x', '!!x', '!!!x', '!*', '!**', '!/', '!(', '!()', '!.env',
  // Dots and dotfiles.
  '/app/.env', '/app/.*', '/app/.**', '/app/**/.env', '/app/**/.*', '/.env', '.env', '.*', '*.*', '*/*', '**/*',
  '**/*.*', '**/.*', '.*.js', '.a.b', '*.js', '*.d.ts', '*.min.js', 'a.*', '*.', '*..', '.*/', '**/.git/**',
  '/app/.git/**', '/app/.', '/app/..', '/.../x',
  // `./` prefixes.
  './app', './app/*', './*', './**', './.env', '././a', '.\\/a',
  // Globstar variations.
  '***', '**/**', '**/**/**', 'a**b', '**a', 'a**', '*a*', 'a*b*c', '*a/b*', '**/*/**', '*/**', '**/*/', '/**/*/',
  '/**/**/x', 'a/**', 'a/**/', 'a/**/**', '**/b', '**/b/', '****', '/****/x',
  // Question marks.
  '?', '/?', '/app/?', '/app/??', '??', '?.js', '.?', '/?/**', 'a?b', '??/*', '(?)', 'a(?:b)', '(?=a)b', '(?!a)b',
  '(?<=a)b', '(?<!a)b', '(?<n>a)', '(?<n>a)\\k<n>',
  // Braces and ranges.
  '{a,b}', '{a,b}{c,d}{e,f}', '{{a,b},{c,d}}', '/{a,{b,c}}/x', '/app/{a,b{c,d}}', '/app/{,x}', '/app/{x}',
  '/app/{}', '{}', '{,}', '{a,}', '{,a}', '{a', 'a}', '{a,b', 'a,b}', 'a,b', '{!a,b}', '{*,x}', '{**,x}/y',
  '{/a,/b}/**', '/app/{a,b}/{c,d}', '/app/{1..5}', '/app/{a..c}', '/app/{01..10}', '/app/{1..10..2}', '{1..0}',
  '{a..A}', '{A..z}', '{-1..2}', '{1..3}{a..b}', '/app/{1..3}/**', '{a..}', '{..a}', '{1..}', '{..}', '{...}',
  '{a...b}', '{1..100000}', '{0..9}', '{9..0}', '{a..z}', '{z..a}', '{1..5}*', 'file.{a..c}.txt', '*.{js,ts}',
  '{x,y}.{js,ts}', '{a,b}/{c..e}', '{[a],b}', '{a|b}', '{(a),b}', '{a,b}}', '{{a,b}', '{a,{b,{c,d}}}',
  '{{{{a}}}}', '{a,b}/**/{c,d}', '/{.env,*.json}',
  // Extglobs.
  '/app/!(x)', '/app/!(x)/y', '/app/@(a|b)', '/app/+(a)', '/app/*(a)', '/app/?(a)', '!(a)', '!(a|b)', '!(!(a))',
  '@(!(a))', '?(a|b)c', 'a!(b)c', '!(a)*', '*!(a)', '!(*.d).ts', '**/!(*.d).ts', '!(*)', '!(**)', '!(.*)',
  '!(a/b)', '!(a)/b', '/!(app)/**', '@(a|b|c)', '@(a)', '@()', '@(|a)', '@(a|)', '+(a|b)+(c)', '+(a)', '+(ab)',
  '*(a|aa)', '*(a|a)', '+(a|aa)b', '+(a|a)', '*(a)*(b)', '?(a)?(b)', '+(a)+(a)+(a)', '*(*(a))', '+(+(+(a)))',
  '@(@(@(@(a))))', '!(!(!(a)))', '@(a|+(b))', '+(a|@(b|c))', '*(/)', '+(/a)', '@(/a|/b)/**', 'a+(b|c)',
  '@(a', '+(a', '*(a', '?(a', '!(a', 'a)', '@(a))', '@(a|b', '+(a|b)*', '*(a|b)+', 'x@(a)', 'x+(a)y', '@(*)',
  '+(*)', '*(?)', '+(?|a)', '!(?)', '@([ab])', '+([0-9])', '*([a-z]|-)', '!([a-z])', '@({a,b})', '+({a,b}|c)',
  // Plain parentheses and pipes.
  '(a|b)', '((a))', '((((((((((a))))))))))', '(a)(b)', 'a|b', '/a|b', '(a|b)/**', '(a', 'a)b', 'a(b', '(',
  ')', '()', '(|)', '(a)\\1', 'a\\1', '(a|b)\\2',
  // Character classes.
  '[abc]', '/[abc]/x', '/[!a]/x', '/[^a]/x', '[a-z]', '[z-a]', '[a-]', '[-a]', '[-]', '[a-z0-9_-]', '[!a-z]',
  '[^a-z]', '[^/]', '[/]', '[/]x', 'a[/]b', '[\\/]', '[[]', '[a[]', '[]]', '[]', '[!]', '[^]', '[\\]]', '[\\\\]',
  '[\\-]', '[a-z', 'a]', '[', ']', '[[', ']]', '[a]]', '[[a]', '[*]', '[?]', '[.]', '[.]env', '[{}]', '[()]',
  '[a,b]', '[!.]*', '[$^]', '[\\d]', '[\\w-]', '[]-]', '[!]-]', '[a-c-e]', '[😀]', '[é]', '[^é]', '[🐱-🐶]',
  // POSIX classes.
  '[[:alpha:]]', '/[[:alpha:]]', '/[[:digit:]]*', '[[:alnum:]_-]', '[[:upper:][:lower:]]', '[[:space:]]',
  '[[:punct:]]', '[[:xdigit:]]', '[[:word:]]', '[[:word:]]+', '[[:foo:]]', '[[:alpha:]', '[:alpha:]',
  '[[:blank:]]', '[[:cntrl:]]', '[[:graph:]]', '[[:print:]]', '[[:lower:]]', '[[:ascii:]]', '[![:alpha:]]',
  '[^[:digit:]]', 'x[[:alpha:]y]', '[[:alpha:][:digit:]]/**', '/app/[[:digit:]][[:digit:]]',
  // Escapes.
  '\\*', '/app/\\*', '/app/\\?', '\\[a]', 'a\\\\b', '/app\\', '\\a', '\\.', '\\/', '\\;', '\\!', '\\!(a)',
  '\\@(a)', '\\{a,b}', '{a\\,b}', '\\(a\\)', '\\**', '*\\*', '\\\\*', '\\\\\\*', '\\\\\\\\', 'a\\', 'a\\\\',
  '\\]', '\\[', '\\-', '\\$', '\\^', '\\d', '\\w+', '\\b', '\\B', '\\u0041', '\\x41', '\\01', '\\0', '\\cA',
  '\\p{L}', '\\k<a>', '\\n', '\\t', '\\s',
  // Quotes.
  '"a*b"', '"/app/*"', 'a"b', '"', '""', '"a"*', '"*"/**', '"{a,b}"',
  // Regex-special characters as text.
  '/a(b)c', '/a+b', '/a|b', '/a^b', '/a$b', '/a.b', 'a+', '+', '+a', '@', '@a', 'a@b', '^a$', '$^', 'a{2}',
  'a{2,3}', 'a{,2}', '.{2}', 'x{1,}', '#', '%', '&', '~', '`', "'", ';', ':', '=', '<', '>', 'a=b', 'a<b>',
  '/app/$HOME', '/app/${x}', 'a#b', 'C:\\app', '/app/a b', ' /app ', '/app/\t',
  // Unicode and line terminators.
  '/app/ümlaut', '/日本/*', '/😀/*', '😀', '?😀', '😀*', '*😀', '/app/😀*', '/é/*', 'é*', '*é',
  '\u00a0',
  'a\u00a0*', 'a\nb', 'a\n*', '\n', '\r', '\u2028', '\u2029', 'a\u2028b', '[\n]', '/app/\u0000', '\u0000',
  '\ufeff*', '\uffff',
  // Longer patterns.
  '/' + 'a*/'.repeat(40), '/' + 'a*'.repeat(6), '/x'.repeat(120) + '/**', '/' + '{a,b}'.repeat(8),
  '/app/' + '?'.repeat(30),
  '**/'.repeat(20) + 'x', '/' + '[ab]'.repeat(25), '+(a)'.repeat(12), '!(a)/'.repeat(6) + 'x',
  'a'.repeat(300), '/app/' + 'very-long-segment-'.repeat(16) + '*',
];

// ---------------------------------------------------------------------------------------------------------
// Pseudo-random patterns.

const SEGMENTS = ['app', 'db', 'api', 'a', 'b', 'x', 'svc-1', 'config', '.env', 'é', '😀', 'dev', 'prod'];
const CONSTRUCTS = [
  () => '*', () => '**', () => '?', () => pick(SEGMENTS), () => pick(SEGMENTS) + '*', () => '*' + pick(SEGMENTS),
  () => '.' + pick(SEGMENTS), () => `{${pick(SEGMENTS)},${pick(SEGMENTS)}}`, () => `{${int(4)}..${int(12)}}`,
  () => `{${pick(['a', 'b', 'x'])}..${pick(['c', 'z', 'A'])}}`,
  () => `[${pick(['abc', 'a-z', '0-9', '!a', '^a', '[:alpha:]', '[:digit:]', '.', '/', ']'])}]`,
  () => `${pick(['!', '@', '+', '*', '?'])}(${pick(SEGMENTS)}${chance(0.5) ? '|' + pick(SEGMENTS) : ''})`,
  () => `${pick(['!', '@', '+', '*', '?'])}(${pick(['*', '?', '[a-z]', '{a,b}', '*.js', 'a|aa', '!(a)'])})`,
  () => '\\' + pick(['*', '?', '[', '{', '(', '!', 'a', '.', '\\']),
  () => pick(SEGMENTS) + '.' + pick(['js', 'json', '*', '{a,b}']),
  () => '', () => '.', () => '..',
];

function structured() {
  const segments = [];
  const count = 1 + int(5);
  for (let i = 0; i < count; i++) {
    let segment = '';
    const parts = 1 + int(2);
    for (let j = 0; j < parts; j++) segment += pick(CONSTRUCTS)();
    segments.push(segment);
  }
  let pattern = (chance(0.7) ? '/' : chance(0.3) ? './' : '') + segments.join('/');
  if (chance(0.15)) pattern += '/';
  if (chance(0.1)) pattern = '!' + pattern;
  return pattern;
}

const TOKENS = [
  '/', '/', '/', 'a', 'b', 'x', 'app', 'db', '.', '.', '*', '*', '**', '?', '[', ']', '[!', '[^', '-', '{', '}',
  ',', '..', '(', ')', '|', '!', '@(', '+(', '*(', '?(', '!(', '\\', '\\*', '$', '^', '+', '[:alpha:]',
  '[[:digit:]]', '1', '9', 'é', '😀', ' ', '"', '~', '#', '%', '=', '<', ':', '0', '\\\\', '((', '))', '{1..3}',
];

function chaos() {
  let pattern = '';
  const length = 1 + int(10);
  for (let i = 0; i < length; i++) pattern += pick(TOKENS);
  return pattern;
}

function stress() {
  switch (int(6)) {
    case 0: return '('.repeat(1 + int(8)) + pick(SEGMENTS) + ')'.repeat(int(9));
    case 1: return '*'.repeat(1 + int(6)) + pick(['', 'a', '/', '/x', '.js']) + '*'.repeat(int(4));
    case 2: return `${pick(['/', '', 'x'])}{${int(50)}..${int(500)}}${pick(['', '/*', '*'])}`;
    case 3: {
      let p = pick(SEGMENTS);
      for (let i = int(4); i >= 0; i--) {
        p = `${pick(['!', '@', '+', '*', '?'])}(${p}${chance(0.4) ? '|' + pick(SEGMENTS) : ''})`;
      }
      return p;
    }
    case 4: return Array.from({ length: 2 + int(6) }, () => pick(['*', '**', '?', 'a'])).join(pick(['/', '', '-']));
    default: return '{'.repeat(1 + int(4)) + pick(['a,b', 'a', 'a..c', ',']) + '}'.repeat(int(5));
  }
}

const RANDOM = [];
for (let i = 0; i < 650; i++) RANDOM.push(structured());
for (let i = 0; i < 650; i++) RANDOM.push(chaos());
for (let i = 0; i < 200; i++) RANDOM.push(stress());

// ---------------------------------------------------------------------------------------------------------
// Values.

const POOL = [
  '/', '/app', '/app/', '/app/config', '/app/a/config', '/app/.env', '/app/a/b/c', '/app/x', '/app/y', '/app/db',
  '/db', '/x/db', '/a/b/db', '/.git/db', '/a', '/b', '/c', 'a', 'b', 'ab', 'abc', 'aa', 'x', '.env', '.a', 'app',
  'app/config', 'a/b', 'a/b/c', '/svc-1/x', '/svc-a/x', '/1', '/5', '/app/1', '/app/a', '/app/b', '/app/c', '/APP',
  '/é', '/日本/x', '/😀/x', '😀', '*', '**', '?', '[', ']', '{', '}', '(', ')', '!', '\\', 'a b', ' ', 'a\nb',
  'a.js', 'a.d.ts', 'a.ts', 'a.b.c', '/app/x.json', '//', '/app//x', './app', 'app/', '-', '$', '^', '|', '+',
  '/app/x/', 'a/', '.', '..', '/.', 'A', 'Z', '0', '9', '_', '/app/dev/x', '/api/prod/y',
];

/** The end of the group opened at `open` (a bracket of `pair`), or -1. */
function closing(text, open, pair) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') { i++; continue; }
    if (text[i] === pair[0]) depth++;
    else if (text[i] === pair[1] && --depth === 0) return i;
  }
  return -1;
}

/** Splits at top-level `separator`. */
function split(text, separator) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') { i++; continue; }
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (c === separator && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts;
}

const POSIX_SAMPLES = {
  alpha: 'q', digit: '7', alnum: 'k', upper: 'Q', lower: 'q', space: ' ', punct: '!', word: '_', xdigit: 'f',
};

/** A value the pattern plausibly matches (or nearly does): metacharacters replaced by sample text. */
function sample(pattern, depth = 0) {
  if (depth > 6) return '';
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const next = pattern[i + 1];
    if (c === '\\' && next !== undefined) { out += chance(0.8) ? next : c + next; i++; continue; }
    if ('!@+*?'.includes(c) && next === '(') {
      const end = closing(pattern, i + 1, '()');
      if (end > 0) {
        const alternatives = split(pattern.slice(i + 2, end), '|');
        const times = { '@': 1, '+': 1 + int(3), '*': int(3), '?': int(2), '!': 1 }[c];
        for (let k = 0; k < times; k++) {
          out += c === '!' && chance(0.6) ? pick(['zz', 'q', '', '.x']) : sample(pick(alternatives), depth + 1);
        }
        i = end;
        continue;
      }
    }
    if (c === '*') {
      if (next === '*') {
        out += pick(['', 'a', 'a/b', '.a', 'a/.b', 'x/y/z', 'db']);
        while (pattern[i + 1] === '*') i++;
      } else {
        out += pick(['', 'x', 'ab', '.x', 'a.b', '-', 'app']);
      }
      continue;
    }
    if (c === '?') { out += pick(['q', 'q', '.', '/', 'é', '1', '😀']); continue; }
    if (c === '[') {
      const start = i + 1 + (pattern[i + 1] === '!' || pattern[i + 1] === '^' ? 1 : 0);
      const end = pattern.indexOf(']', start + 1);
      if (end > 0) {
        const body = pattern.slice(start, end).replace(/\[:(\w+):?\]?/g, m => POSIX_SAMPLES[m.slice(2, -2)] ?? 'w');
        out += chance(0.75) && body.length ? body[int(body.length)] : pick(['#', 'Z', '0', 'a', '/', '.']);
        i = end;
        continue;
      }
    }
    if (c === '{') {
      const end = closing(pattern, i, '{}');
      if (end > 0) {
        const body = pattern.slice(i + 1, end);
        const alternatives = split(body, ',');
        const range = body.match(/^([^.]*)\.\.([^.]*)(?:\.\.(\d+))?$/);
        if (alternatives.length === 1 && range) {
          const [low, high] = [range[1], range[2]];
          if (/^-?\d+$/.test(low) && /^-?\d+$/.test(high)) {
            const [a, b] = [Number(low), Number(high)];
            out += String(pick([a, b, Math.min(a, b) + int(Math.abs(b - a) + 1), b + 1]));
          } else {
            out += pick([low, high, low.slice(0, 1)]);
          }
        } else {
          out += sample(pick(alternatives), depth + 1);
        }
        i = end;
        continue;
      }
    }
    if (c === '(') {
      const end = closing(pattern, i, '()');
      if (end > 0) {
        out += sample(pick(split(pattern.slice(i + 1, end), '|')), depth + 1);
        i = end;
        continue;
      }
    }
    if (c === '!' && i === 0) { if (chance(0.5)) continue; }
    if (c === '"') continue;
    out += c;
  }
  return out;
}

// Values that the generic ones would miss: what JavaScript escapes in the generated source stand for.
const EXTRA = {
  '\\01': ['\u0001', '\u00001', '1', '01'],
  '\\0': ['\u0000', '0'],
  '\\cA': ['\u0001', 'cA', '\\cA', 'A'],
  '\\x41': ['A', 'x41'],
  '\\u0041': ['A', 'u0041'],
  'a\\1': ['a\u0001', 'a1'],
  '(a)\\1': ['aa', 'a\u0001'],
  '\\p{L}': ['p{L}', 'a', 'pL'],
  '\\k<a>': ['k<a>', 'a'],
  '\\b': ['b', 'B', '\b', 'x'],
  '\\B': ['B', 'b'],
  '\\n': ['\n', 'n'],
  '\\t': ['\t', 't'],
  '\\s': [' ', 's', '\t'],
  '\\d': ['5', 'd'],
  '\\w+': ['ab', 'w', 'ww', '-'],
  '[\\d]': ['5', 'd', '\\'],
  '[\\w-]': ['a', '-', 'w', '\\'],
  '[[:cntrl:]]': ['\u0001', '\u007f', '\u001f', ' ', 'a'],
  '[[:print:]]': [' ', '~', '\u007f', '\u0080', 'é'],
  '[[:graph:]]': [' ', '!', '~', '\u007f'],
  '[[:ascii:]]': ['\u0000', '\u007f', '\u0080', 'é', 'a'],
  '[[:blank:]]': [' ', '\t', '\n'],
  '[[:space:]]': ['\u000b', '\f', '\r', '\u00a0'],
  'a\n*': ['a\nb', 'a\n', 'a\n/'],
  '\u2028': ['\u2028', 'x'],
  '\u2029': ['\u2029', '\u2028'],
  'a\u2028b': ['a\u2028b', 'a\u2029b'],
  '[\n]': ['\n', '\n/'],
  '\n': ['\n'],
  '\r': ['\r'],
  '/app/\u0000': ['/app/\u0000'],
  '\u0000': ['\u0000'],
  '\ufeff*': ['\ufeffx', '\ufeff'],
  '\uffff': ['\uffff'],
  '\u00a0': ['\u00a0', ' '],
  '?': ['😀', '\u00e9', 'é'],
  '??': ['😀', 'é'],
  '[😀]': ['😀', '\ud83d\ude00'],
  '[^😀]': ['😀', 'a'],
  '[🐱-🐶]': ['🐱', '🐶', '🐷'],
};

function values(pattern) {
  const out = new Set();
  const add = value => {
    if (typeof value === 'string' && value.isWellFormed() && value.length <= 2000) out.add(value);
  };
  add(pattern);
  add('');
  for (const value of EXTRA[pattern] ?? []) add(value);
  add(pattern + '/x');
  add(pattern + '/');
  add('/' + pattern);
  add(pattern.replace(/^\.\//, ''));
  add(pattern.replace(/^!+/, ''));
  add(pattern.replace(/[*?[\]{}()!@+|\\]/g, ''));
  add(pattern.replace(/[*?]/g, 'x'));
  for (let k = 0; k < 10; k++) add(sample(pattern));
  const base = sample(pattern);
  add(base + '/');
  add(base + '/x');
  add(base.replace(/[^/]*$/, '.hidden'));
  add(base.replace(/\/([^/]*)$/, '/.$1'));
  add(base.toUpperCase());
  for (let k = 0; k < 6; k++) add(pick(POOL));
  return [...out].slice(0, 30);
}

// ---------------------------------------------------------------------------------------------------------

function source(pattern) {
  try {
    return picomatch.makeRe(pattern, OPTIONS).source;
  } catch {
    return 'THROW';
  }
}

// V8 backtracks: some generated regexes take exponential time on values that do not match (`/a*a*a*a*a*a*a*a*`
// against `/aaa...a/x` runs for seconds and doubles with each `a*`). The corpus avoids those; this reports
// any that slip in.
function isMatch(value, pattern) {
  const start = performance.now();
  let answer;
  try {
    answer = picomatch.isMatch(value, pattern, OPTIONS);
  } catch {
    answer = false;
  }
  const elapsed = performance.now() - start;
  if (elapsed > 200) {
    console.error(`slow: ${JSON.stringify(pattern)} on ${JSON.stringify(value)}: ${elapsed.toFixed(0)} ms`);
  }
  return answer;
}

const seen = new Set();
const lines = [];
for (const pattern of [...HANDWRITTEN, ...RANDOM]) {
  if (seen.has(pattern) || !pattern.isWellFormed()) continue;
  seen.add(pattern);
  const cases = values(pattern).map(value => [value, isMatch(value, pattern)]);
  lines.push(JSON.stringify({ p: pattern, src: source(pattern), cases }));
}
process.stdout.write(lines.join('\n') + '\n');
