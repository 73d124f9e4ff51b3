//! `dite`: the command line.

use std::path::PathBuf;
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
    Dis { file: PathBuf },
    /// Assemble a module from assembler syntax.
    Asm {
        file: PathBuf,
        #[arg(short = 'o')]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dite: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Dis { file } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let loaded =
                dis::load(&bytes, WordSize::W8).map_err(|e| format!("{}: {e}", file.display()))?;
            print!("{}", dis::disasm::disassemble(&loaded.module));
            Ok(())
        }
        Cmd::Asm { file, output } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let module =
                dis::asm::assemble(&text).map_err(|e| format!("{}:{e}", file.display()))?;
            dis::validate::validate(&module, WordSize::W8, None)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let bytes =
                dis::write::encode(&module).map_err(|e| format!("{}: {e}", file.display()))?;
            std::fs::write(&output, bytes).map_err(|e| format!("{}: {e}", output.display()))
        }
    }
}
