#include "agent/server/status_page.h"

namespace keelson::server {

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

const char* HealthClass(const std::string& health) {
  if (health == "Healthy") return "ok";
  if (health == "Progressing" || health == "Unknown") return "wait";
  return "bad";
}

constexpr const char* kStyle = R"(
:root{--ok:#1a7f37;--bad:#cf222e;--wait:#9a6700;--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--bg:#fff}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--mute:#9198a1;--line:#3d444d;--bg:#0d1117}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 20px;border-bottom:1px solid var(--line)}h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:var(--mute)}main{padding:12px 20px;max-width:1100px}
h2{font-size:16px;margin:20px 0 8px}.units{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.unit{border:1px solid var(--line);border-radius:8px;padding:12px}.unit h3{margin:0 0 6px;font-size:16px;display:flex;justify-content:space-between;gap:8px}
.badge{font-size:12px;font-weight:600;padding:2px 8px;border-radius:999px;color:#fff;white-space:nowrap}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.wait{background:var(--wait)}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:2px 10px}dt{color:var(--mute)}dd{margin:0;overflow-wrap:anywhere}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}.err{color:var(--bad);overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600}footer{padding:12px 20px;color:var(--mute);font-size:13px}
)";

}  // namespace

std::string RenderStatusPage(const nlohmann::json& status) {
  std::string env = HtmlEscape(Str(status, "environment"));
  std::string html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<meta http-equiv=\"refresh\" content=\"10\">"
                     "<title>Keelson · " + env + "</title><style>" + kStyle + "</style></head><body>\n";
  const nlohmann::json& pass = status.contains("lastPass") ? status["lastPass"] : nlohmann::json::object();
  html += "<header><h1>Keelson · " + env + "</h1><p>revision <code>" +
          HtmlEscape(Str(pass, "revision").substr(0, 12)) + "</code> · last reconcile " +
          HtmlEscape(Str(pass, "time")) + " (" + HtmlEscape(Str(pass, "trigger")) + ") · version " +
          HtmlEscape(Str(status, "version")) + "</p></header>\n<main>\n";
  if (std::string err = Str(status, "lastError"); !err.empty()) {
    html += "<p class=\"err\"><strong>Last error:</strong> " + HtmlEscape(err) + "</p>\n";
  }
  html += "<h2>Units</h2>\n<div class=\"units\">\n";
  const nlohmann::json units = status.value("units", nlohmann::json::array());
  if (units.empty()) html += "<p>No unit has been reconciled yet.</p>\n";
  for (const nlohmann::json& u : units) {
    std::string health = Str(u, "health");
    std::int64_t drift = u.value("driftedObjects", 0);
    html += "<section class=\"unit\"><h3><span>" + HtmlEscape(Str(u, "unit")) + "</span><span class=\"badge " +
            HealthClass(health) + "\">" + HtmlEscape(health) + "</span></h3><dl>";
    html += "<dt>revision</dt><dd><code>" + HtmlEscape(Str(u, "appliedRevision").substr(0, 12)) + "</code></dd>";
    html += "<dt>healthy at</dt><dd><code>" + HtmlEscape(Str(u, "healthyRevision").substr(0, 12)) + "</code></dd>";
    html += "<dt>signer</dt><dd>" + HtmlEscape(Str(u, "signer")) + "</dd>";
    html += "<dt>drift</dt><dd>" + (drift == 0 ? std::string("none") : std::to_string(drift) + " object(s)") + "</dd>";
    html += "<dt>updated</dt><dd>" + HtmlEscape(Str(u, "updatedAt")) + "</dd>";
    html += "</dl>";
    if (std::string err = Str(u, "lastError"); !err.empty()) {
      html += "<p class=\"err\">" + HtmlEscape(err) + "</p>";
    }
    if (u.contains("driftedFields") && !u["driftedFields"].empty()) {
      html += "<p>";
      for (const auto& f : u["driftedFields"]) html += "<code>" + HtmlEscape(f.get<std::string>()) + "</code><br>";
      html += "</p>";
    }
    html += "</section>\n";
  }
  html += "</div>\n<h2>Last decisions</h2>\n<table><tr><th>unit</th><th>decision</th><th>detail</th></tr>\n";
  for (const nlohmann::json& u : pass.value("units", nlohmann::json::array())) {
    html += "<tr><td>" + HtmlEscape(Str(u, "unit")) + "</td><td>" + HtmlEscape(Str(u, "status")) + "</td><td>" +
            HtmlEscape(Str(u, "error")) + "</td></tr>\n";
  }
  html += "</table>\n<h2>Sources</h2>\n<table><tr><th>source</th><th>ref</th><th>state</th></tr>\n";
  for (const nlohmann::json& s : status.value("sources", nlohmann::json::array())) {
    html += "<tr><td>" + HtmlEscape(Str(s, "name")) + "<br><code>" + HtmlEscape(Str(s, "url")) + "</code></td><td>" +
            HtmlEscape(Str(s, "ref")) + "</td><td>" + HtmlEscape(Str(s, "status")) + "</td></tr>\n";
  }
  html += "</table>\n<h2>Recent history</h2>\n<table><tr><th>time</th><th>revision</th><th>result</th></tr>\n";
  for (const nlohmann::json& h : status.value("history", nlohmann::json::array())) {
    html += "<tr><td>" + HtmlEscape(Str(h, "time")) + "</td><td><code>" + HtmlEscape(Str(h, "revision").substr(0, 12)) +
            "</code></td><td>" + HtmlEscape(Str(h, "result")) + "</td></tr>\n";
  }
  html += "</table>\n</main><footer>JSON: <a href=\"/api/v1/status\">/api/v1/status</a> · "
          "metrics: <a href=\"/metrics\">/metrics</a></footer></body></html>\n";
  return html;
}

}  // namespace keelson::server
