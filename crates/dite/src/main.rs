//! `dite`: the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dis::WordSize;

#[derive(Parser)]
#[command(name = "dite", version, about = "Run Inferno's Dis modules")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Disassemble a module in Inferno's assembler syntax.
    Dis {
        file: PathBuf,
        /// Print a module that parses but fails validation too.
        #[arg(long)]
        unchecked: bool,
    },
    /// Assemble a module from assembler syntax.
    Asm {
        file: PathBuf,
        #[arg(short = 'o')]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dite: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prefixes an error with the file it concerns.
fn in_file<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Dis { file, unchecked } => {
            let bytes = std::fs::read(&file).map_err(in_file(&file))?;
            let module = if unchecked {
                dis::read::parse(&bytes).map(|(m, _)| m)
            } else {
                dis::load(&bytes, WordSize::W8).map(|l| l.module)
            };
            print!("{}", dis::disasm::disassemble(&module.map_err(in_file(&file))?));
            Ok(())
        }
        Cmd::Asm { file, output } => {
            let text = std::fs::read_to_string(&file).map_err(in_file(&file))?;
            let module = dis::asm::assemble(&text).map_err(in_file(&file))?;
            dis::validate::validate(&module, WordSize::W8, None).map_err(in_file(&file))?;
            let bytes = dis::write::encode(&module).map_err(in_file(&file))?;
            std::fs::write(&output, bytes).map_err(in_file(&output))
        }
    }
}
