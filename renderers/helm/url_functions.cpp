// Sprig's urlParse and urlJoin, following Go's net/url: how a URL splits
// into scheme, user info, host, path, query and fragment, which parts are
// unescaped, and how String() escapes them back.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "renderers/helm/functions.h"

namespace keelson::helm {

namespace {

using Args = std::vector<Value>;
using R = Result<Value>;

enum class Part { kPath, kHost, kUserPassword, kQueryComponent, kFragment };

Error Fail(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

bool ShouldEscape(unsigned char c, Part part) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return false;
  if (part == Part::kHost) {
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      case ':': case '[': case ']': case '<': case '>': case '"':
        return false;
      default: break;
    }
  }
  switch (c) {
    case '-': case '_': case '.': case '~': return false;
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '?': case '@':
      switch (part) {
        case Part::kPath: return c == '?';
        case Part::kUserPassword: return c == '@' || c == '/' || c == '?' || c == ':';
        case Part::kQueryComponent: return true;
        case Part::kFragment: return false;
        case Part::kHost: break;
      }
      break;
    default: break;
  }
  if (part == Part::kFragment && (c == '!' || c == '(' || c == ')' || c == '*')) return false;
  return true;
}

std::string Escape(std::string_view s, Part part) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ' && part == Part::kQueryComponent) {
      out += '+';
    } else if (ShouldEscape(c, part)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Unescape(std::string_view s, Part part) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) {
        std::string bad(s.substr(i, std::min<std::size_t>(3, s.size() - i)));
        return Fail("invalid URL escape \"" + bad + "\"");
      }
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && part == Part::kQueryComponent) {
      out += ' ';
    } else {
      if (part == Part::kHost && static_cast<unsigned char>(s[i]) < 0x80 && ShouldEscape(static_cast<unsigned char>(s[i]), part)) {
        return Fail("invalid character \"" + std::string(1, s[i]) + "\" in host name");
      }
      out += s[i];
    }
  }
  return out;
}

struct Url {
  std::string scheme, opaque, host, path, raw_path, raw_query, fragment, raw_fragment;
  bool has_user = false, has_password = false, force_query = false;
  std::string username, password;
};

// The escaped form of `decoded`: `raw` when it is a valid spelling of it.
std::string EscapedForm(const std::string& decoded, const std::string& raw, Part part) {
  if (!raw.empty()) {
    auto back = Unescape(raw, part);
    if (back.ok() && *back == decoded) {
      bool plain = true;
      for (char c : raw) {
        if (c != '%' && std::string_view("!$&'()*+,;=:@[]").find(c) == std::string_view::npos &&
            ShouldEscape(static_cast<unsigned char>(c), part)) {
          plain = false;
        }
      }
      if (plain) return raw;
    }
  }
  if (part == Part::kPath && decoded == "*") return "*";
  return Escape(decoded, part);
}

Status ParseHost(std::string_view host, Url& u) {
  if (host.starts_with("[")) {
    std::size_t close = host.rfind(']');
    if (close == std::string_view::npos) return Fail("missing ']' in host");
    std::string_view port = host.substr(close + 1);
    if (!port.empty() && (port[0] != ':' || port.find_first_not_of("0123456789", 1) != std::string_view::npos)) {
      return Fail("invalid port \"" + std::string(port) + "\" after host");
    }
  } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon);
    if (port.find_first_not_of("0123456789", 1) != std::string_view::npos) {
      return Fail("invalid port \"" + std::string(port) + "\" after host");
    }
  }
  auto decoded = Unescape(host, Part::kHost);
  if (!decoded.ok()) return std::move(decoded).error();
  u.host = *decoded;
  return Status::Ok();
}

Status ParseAuthority(std::string_view authority, Url& u) {
  std::size_t at = authority.rfind('@');
  Status st = ParseHost(at == std::string_view::npos ? authority : authority.substr(at + 1), u);
  if (!st.ok() || at == std::string_view::npos) return st;
  std::string_view info = authority.substr(0, at);
  for (char c : info) {
    auto uc = static_cast<unsigned char>(c);
    bool ok = (uc >= 'a' && uc <= 'z') || (uc >= 'A' && uc <= 'Z') || (uc >= '0' && uc <= '9') ||
              std::string_view("-._:~!$&'()*+,;=%@").find(c) != std::string_view::npos;
    if (!ok) return Fail("net/url: invalid userinfo");
  }
  u.has_user = true;
  std::size_t colon = info.find(':');
  auto name = Unescape(info.substr(0, colon), Part::kUserPassword);
  if (!name.ok()) return std::move(name).error();
  u.username = *name;
  if (colon != std::string_view::npos) {
    auto pass = Unescape(info.substr(colon + 1), Part::kUserPassword);
    if (!pass.ok()) return std::move(pass).error();
    u.has_password = true;
    u.password = *pass;
  }
  return Status::Ok();
}

// Go's url.Parse.
Result<Url> ParseUrl(std::string_view raw) {
  Url u;
  std::size_t hash = raw.find('#');
  std::string_view rest = raw.substr(0, hash);
  if (hash != std::string_view::npos) {
    auto frag = Unescape(raw.substr(hash + 1), Part::kFragment);
    if (!frag.ok()) return std::move(frag).error();
    u.fragment = *frag;
    u.raw_fragment = std::string(raw.substr(hash + 1));
  }
  for (char c : rest) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Fail("net/url: invalid control character in URL");
  }
  if (rest.empty()) return u;
  if (rest == "*") {
    u.path = "*";
    return u;
  }
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return Fail("missing protocol scheme");
      u.scheme = std::string(rest.substr(0, i));
      for (char& ch : u.scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      rest.remove_prefix(i + 1);
    }
    break;
  }
  if (rest.ends_with("?") && std::count(rest.begin(), rest.end(), '?') == 1) {
    u.force_query = true;
    rest.remove_suffix(1);
  } else if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    u.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (!rest.starts_with("/")) {
    if (!u.scheme.empty()) {
      u.opaque = std::string(rest);
      return u;
    }
    std::string_view segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != std::string_view::npos) {
      return Fail("first path segment in URL cannot contain colon");
    }
  }
  if ((!u.scheme.empty() || !rest.starts_with("///")) && rest.starts_with("//")) {
    std::string_view authority = rest.substr(2);
    rest = {};
    if (std::size_t slash = authority.find('/'); slash != std::string_view::npos) {
      rest = authority.substr(slash);
      authority = authority.substr(0, slash);
    }
    Status st = ParseAuthority(authority, u);
    if (!st.ok()) return std::move(st).error();
  }
  auto path = Unescape(rest, Part::kPath);
  if (!path.ok()) return std::move(path).error();
  u.path = *path;
  u.raw_path = std::string(rest);
  return u;
}

std::string UserString(const Url& u) {
  std::string s = Escape(u.username, Part::kUserPassword);
  if (u.has_password) s += ":" + Escape(u.password, Part::kUserPassword);
  return s;
}

// Go's URL.String.
std::string UrlString(const Url& u) {
  std::string out;
  if (!u.opaque.empty()) {
    if (!u.scheme.empty()) out += u.scheme + ":";
    out += u.opaque;
  } else {
    if (!u.scheme.empty()) out += u.scheme + ":";
    if (!u.scheme.empty() || !u.host.empty() || u.has_user) {
      if (!u.host.empty() || !u.path.empty() || u.has_user) out += "//";
      if (u.has_user) out += UserString(u) + "@";
      if (!u.host.empty()) out += Escape(u.host, Part::kHost);
    }
    std::string path = EscapedForm(u.path, u.raw_path, Part::kPath);
    if (!path.empty() && path[0] != '/' && !u.host.empty()) out += '/';
    if (out.empty()) {
      std::string_view segment = std::string_view(path).substr(0, path.find('/'));
      if (segment.find(':') != std::string_view::npos) out += "./";
    }
    out += path;
  }
  if (u.force_query || !u.raw_query.empty()) out += "?" + u.raw_query;
  if (!u.fragment.empty()) out += "#" + EscapedForm(u.fragment, u.raw_fragment, Part::kFragment);
  return out;
}

std::string Hostname(const std::string& host) {
  if (host.starts_with("[")) {
    std::size_t close = host.find(']');
    return close == std::string::npos ? host.substr(1) : host.substr(1, close - 1);
  }
  std::size_t colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

std::string DictString(const Map& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->second.IsString() ? it->second.AsString() : "";
}

}  // namespace

void AddUrlFunctions(FunctionTable& table) {
  auto& f = table.functions;
  f["urlParse"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 1) return Fail("wrong number of args for urlParse: want 1 got " + std::to_string(a.size()));
    std::string text = a[0].IsString() ? a[0].AsString() : "";
    auto u = ParseUrl(text);
    if (!u.ok()) return Fail("unable to parse url: parse \"" + text + "\": " + u.error().message);
    Map d;
    d["scheme"] = Value::String(u->scheme);
    d["host"] = Value::String(u->host);
    d["hostname"] = Value::String(Hostname(u->host));
    d["path"] = Value::String(u->path);
    d["query"] = Value::String(u->raw_query);
    d["opaque"] = Value::String(u->opaque);
    d["fragment"] = Value::String(u->fragment);
    d["userinfo"] = Value::String(u->has_user ? UserString(*u) : "");
    return Value::NewMap(std::move(d));
  };
  f["urlJoin"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 1) return Fail("wrong number of args for urlJoin: want 1 got " + std::to_string(a.size()));
    if (!a[0].IsMap()) {
      return Fail("wrong type for value; expected map[string]interface {}; got " + a[0].TypeName());
    }
    const Map& d = a[0].AsMap();
    Url u;
    u.scheme = DictString(d, "scheme");
    u.host = DictString(d, "host");
    u.path = DictString(d, "path");
    u.raw_query = DictString(d, "query");
    u.opaque = DictString(d, "opaque");
    u.fragment = DictString(d, "fragment");
    std::string userinfo = DictString(d, "userinfo");
    if (!userinfo.empty()) {
      auto parsed = ParseUrl("proto://" + userinfo + "@host");
      if (!parsed.ok()) return Fail("unable to parse userinfo in dict: " + parsed.error().message);
      u.has_user = parsed->has_user;
      u.has_password = parsed->has_password;
      u.username = parsed->username;
      u.password = parsed->password;
    }
    return Value::String(UrlString(u));
  };
}

}  // namespace keelson::helm
