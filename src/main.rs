//! The `voter-meetings` binary: see `voter_meetings::cli`.
fn main() -> std::process::ExitCode {
    voter_meetings::cli::main()
}
