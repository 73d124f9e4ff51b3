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
    /// Run a module: `init(nil, PROGRAM :: ARGS)`.
    Run {
        /// Compile mode as in emu: 0 interprets, 1 compiles each function
        /// to native code when it first runs.
        #[arg(short = 'c', default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
        compile: u8,
        /// With -c1, compile only functions that run hot (entered 8 times,
        /// or looping 64 times): code that runs once is interpreted.
        #[arg(long)]
        hot: bool,
        /// Report loading, compilation and collection.
        #[arg(short = 'v')]
        verbose: bool,
        program: PathBuf,
        /// Arguments for the program (any bytes, as emu takes them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
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
        Ok(code) => code,
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

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.cmd {
        Cmd::Run { compile, hot, verbose, program, args } => {
            let mut vm = vm::Vm::new(vm::Config { verbose, ..vm::Config::default() });
            if compile == 1 {
                let when = if hot { jit::When::Hot } else { jit::When::FirstRun };
                vm.set_backend(jit::backend_compiling(when)?);
            }
            let path = program.to_string_lossy().into_owned();
            use std::os::unix::ffi::OsStringExt;
            let mut argv = vec![path.clone().into_bytes()];
            argv.extend(args.into_iter().map(OsStringExt::into_vec));
            match vm.run_program(&path, &argv).map_err(|e| e.to_string())? {
                vm::Outcome::Done => Ok(ExitCode::SUCCESS),
                vm::Outcome::Broken(_) => Ok(ExitCode::FAILURE),
                vm::Outcome::Deadlock => {
                    eprintln!("dite: deadlock: every thread is blocked");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Cmd::Dis { file, unchecked } => {
            let bytes = std::fs::read(&file).map_err(in_file(&file))?;
            let module = if unchecked {
                dis::read::parse(&bytes).map(|(m, _)| m)
            } else {
                dis::load(&bytes, WordSize::W8).map(|l| l.module)
            };
            print!("{}", dis::disasm::disassemble(&module.map_err(in_file(&file))?));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Asm { file, output } => {
            let text = std::fs::read_to_string(&file).map_err(in_file(&file))?;
            let module = dis::asm::assemble(&text).map_err(in_file(&file))?;
            dis::validate::validate(&module, WordSize::W8, None).map_err(in_file(&file))?;
            let bytes = dis::write::encode(&module).map_err(in_file(&file))?;
            std::fs::write(&output, bytes).map_err(in_file(&output))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
