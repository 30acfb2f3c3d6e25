#pragma once
// Under torchrun, rank 0 alone shows progress; every other rank writes its
// output (progress, notes, its own errors) to RUN/logs/rank-N.log, and its
// final error also to the terminal, prefixed with its rank, so a failing
// rank's cause is where torchrun's user looks.
#include <string>

namespace revup::cli {

// Sends this process's stdout and stderr to RUN/logs/rank-N.log when it is
// a rank other than 0 of a torchrun launch; does nothing otherwise.
void send_rank_output_to_run_folder(const std::string& run_dir);

// "revup-cli: error: TEXT" on stderr, and on the terminal when stderr went to
// a rank's log.
void print_error(const std::string& text);

}  // namespace revup::cli
