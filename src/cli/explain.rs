//! `permc explain CODE`.

use std::io::Write;

use super::{ExplainArgs, exit};
use crate::codes::Code;

pub fn run(args: &ExplainArgs) -> Result<u8, String> {
    let mut out = std::io::stdout().lock();
    let write =
        |out: &mut std::io::StdoutLock<'_>, text: String| writeln!(out, "{text}").map_err(|error| error.to_string());
    if args.list {
        for code in Code::ALL {
            write(&mut out, format!("{}  {:<28} {}", code.id(), code.name(), code.summary()))?;
        }
        return Ok(exit::CLEAN);
    }
    let text = args.code.as_deref().unwrap_or_default();
    let Some(code) = Code::parse(text) else {
        let names = Code::ALL.iter().flat_map(|code| [code.id(), code.name()]);
        let hint = crate::catalog::suggest(text, names).map(|it| format!("; did you mean `{it}`?")).unwrap_or_default();
        return Err(format!("unknown code `{text}`{hint} (`permc explain --list` lists them)"));
    };
    write(&mut out, format!("# {} {}\n", code.id(), code.name()))?;
    write(&mut out, format!("{}: {}\n", code.default_severity().as_str(), code.summary()))?;
    write(&mut out, code.documentation())?;
    Ok(exit::CLEAN)
}
