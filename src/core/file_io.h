// Reading untrusted files and writing outputs safely: an output is written to a temporary file in
// the target folder, flushed, fsynced and renamed into place, so a failure never leaves a partial
// file at the target; an output that is the same file as an input (by device and inode) is refused.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qforge {

// Whole file; InputError "<path>: <reason>" when it cannot be read or is larger than max_bytes.
std::string read_file(const std::string& path, size_t max_bytes = size_t{1} << 33);
// Atomic replace of `path` by `bytes`; InputError on any failure (nothing left at the target).
// `inputs`: files that must not be overwritten (compared by identity, not by name).
// `check`: called with the temporary file's path after it is written and fsynced, before the rename;
// whatever it throws removes the temporary file and leaves the target as it was.
void write_file_atomic(const std::string& path, std::string_view bytes,
                       const std::vector<std::string>& inputs = {},
                       const std::function<void(const std::string& tmp_path)>& check = {});
// True when both paths exist and name the same file (device + inode).
bool same_file(const std::string& a, const std::string& b);

}  // namespace qforge
