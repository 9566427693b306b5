//! The `agemark` binary: parse arguments, set up logging and threads, run one command.

mod cli;
mod commands;

use clap::Parser;

/// `--threads` above this many per core is clamped (with a warning).
const MAX_THREADS_PER_CORE: usize = 4;

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if cli.version {
        println!("agemark {}", agemark::core::AGEMARK_VERSION);
        return;
    }
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::INFO,
        (false, 1) => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    agemark::reads::install_panic_filter();
    if !cli.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        agemark::core::progress::enable_bars();
    }
    tracing_subscriber::fmt()
        .with_writer(|| agemark::cohort::pseudo::ScrubbedStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_max_level(level)
        .init();
    // One thread budget: `threads` rayon workers do all the parallel work (BGZF inflate
    // included); besides them only the main thread, one reader and a logger may run.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match cli.threads {
        None => cores,
        Some(0) => {
            eprintln!("agemark: error: --threads 0: give at least 1 thread");
            std::process::exit(2);
        }
        Some(n) if n > cores * MAX_THREADS_PER_CORE => {
            let max = cores * MAX_THREADS_PER_CORE;
            tracing::warn!(
                "--threads {n} is more than {MAX_THREADS_PER_CORE} per core on this machine ({cores} cores): using {max}"
            );
            max
        }
        Some(n) => n,
    };
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        tracing::debug!("thread pool already set up: {e}");
    }
    let Some(command) = cli.command else {
        eprintln!("agemark: no command given; see agemark --help");
        std::process::exit(2);
    };
    let result = match &command {
        cli::Command::Telomere(a) => commands::telomere::run(a, threads),
        cli::Command::Mtdna(a) => commands::mtdna::run(a, threads),
        cli::Command::Reads(a) => commands::reads::run(a, threads),
        cli::Command::Pileup(a) => commands::pileup::run(a, threads),
        cli::Command::Demo(a) => commands::demo::run(a, threads),
        cli::Command::Clocks(a) => commands::clocks::run(a),
        cli::Command::Scores(a) => commands::scores::run(a),
        cli::Command::Celltypes(a) => commands::celltypes::run(a),
        cli::Command::Nr3c1(a) => commands::nr3c1::run(a),
        cli::Command::Reference(a) => commands::reference::run(a),
        cli::Command::Run(a) => commands::run::run(a, threads),
        cli::Command::Merge(a) => commands::merge::run(a),
        cli::Command::Report(a) => commands::report::run(a),
        cli::Command::Idat(a) => commands::idat::run(a),
        cli::Command::Qpcr(a) => commands::qpcr::run(a),
        cli::Command::Completions(a) => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "agemark", &mut text);
            write_stdout(&text)
        }
        cli::Command::Man => {
            let cmd = <cli::Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut text) {
                Ok(()) => write_stdout(&text),
                Err(source) => Err(commands::AppError::from(agemark::tidy::WriteError {
                    path: "stdout".into(),
                    source,
                })),
            }
        }
    };
    if let Err(e) = result {
        eprintln!("agemark: error: {e}");
        std::process::exit(commands::exit_code(&e));
    }
}

/// Writes generated text to stdout; a closed pipe (`agemark man | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<(), commands::AppError> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(commands::AppError::from(agemark::tidy::WriteError {
                path: "stdout".into(),
                source: e,
            }))
        }
        _ => Ok(()),
    }
}
