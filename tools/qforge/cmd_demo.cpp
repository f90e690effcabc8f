#include "commands.h"

namespace qforge::cli {

int cmd_demo(int argc, char** argv) { (void)argc; (void)argv; return 1; }

}  // namespace qforge::cli
