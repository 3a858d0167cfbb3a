// The digest's wording: four template files admins may change (share/digest/ is the vendor
// copy; a file of the same name in the admin directory wins, file by file).
//
//   digest.txt, digest.html              the whole text or HTML part; {entries} is where the
//                                        entries go
//   digest-entry.txt, digest-entry.html  one held message
//
// Placeholders are {name}; "{{" is a literal "{". A line that has placeholders which all
// come out empty is left out entirely: that is how optional lines work (no link configured,
// nothing left unlisted, release by reply off). Unknown placeholders are an error when the
// templates are loaded, naming the file and line. In the HTML templates every value is
// HTML-escaped; in the text ones it is one clean line (digest/compose.hpp display_line).
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::config { class Snapshot; struct Layout; }

namespace pmx::digest {

struct Templates {
    std::string text, text_entry, html, html_entry;
};

// Placeholders each template may use.
std::span<const std::string_view> page_placeholders();   // digest.txt, digest.html
std::span<const std::string_view> entry_placeholders();  // digest-entry.txt, digest-entry.html

// Each file from the first directory that has it; every file must be found somewhere.
Result<Templates> load_templates(std::span<const std::filesystem::path> dirs);
// The directories digest.templates names: relative: config dir / it, then vendor dir / it.
std::vector<std::filesystem::path> template_dirs(const config::Snapshot& snapshot, const config::Layout& layout);

// Errors: an unknown placeholder or an unclosed "{", "FILE:LINE: ...".
Result<void> check_template(std::string_view tmpl, std::span<const std::string_view> known, std::string_view file);

using Values = std::map<std::string, std::string, std::less<>>;
// values are inserted as given (escape them first); unknown names are left as written.
std::string render_template(std::string_view tmpl, const Values& values);

}  // namespace pmx::digest
