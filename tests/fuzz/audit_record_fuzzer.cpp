// Fuzzes the audit record reader: any input parses or fails with an Error,
// and every record that parses writes back (compact and indented) to text
// that parses to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/audit/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::audit;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  keelson::Result<Record> record = ParseRecord(text, "fuzz.json");
  if (!record.ok()) return 0;
  std::string compact = CompactJson(*record);
  for (const std::string& again : {compact, PrettyJson(*record)}) {
    keelson::Result<Record> back = ParseRecord(again, "again.json");
    if (!back.ok() || CompactJson(*back) != compact) std::abort();
  }
  (void)Summary(*record);
  return 0;
}
