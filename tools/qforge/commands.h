// The CLI's subcommands: one file each (cmd_<name>.cpp), each a thin layer over the library that
// parses options into a struct and calls it (STYLE §11). Exit codes: 0 ok, 1 internal error,
// 2 bad input or usage.
#pragma once

namespace qforge::cli {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  CommandFn run;
  const char* summary;
};

int cmd_inspect(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_analyze(int argc, char** argv);
int cmd_qat(int argc, char** argv);

}  // namespace qforge::cli
