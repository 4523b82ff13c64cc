// The function library Helm charts call: Go's built-ins, the Sprig
// functions charts use (strings, lists, dicts, math, semver, defaults,
// regex, encodings, hashes, random) and Helm's own (include, tpl, required,
// fail, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray,
// lookup, getHostByName).
//
// Random functions (randAlphaNum, uuidv4, ...) draw from OpenSSL's CSPRNG.
// Functions that need the cluster (lookup) behave as `helm template` does
// offline: lookup returns an empty map.
#pragma once

#include "renderers/helm/template.h"

namespace keelson::helm {

// Built-ins, Sprig and Helm functions in one table.
FunctionTable MakeHelmFunctions();

// Text of sigs.k8s.io/yaml.Unmarshal into a map (fromYaml): numbers as
// float64, YAML 1.1 booleans. Errors come back as {"Error": message}.
Value FromYamlValue(std::string_view text);

// genPrivateKey, genCA, genSelfSignedCert, genSignedCert, htpasswd
// (crypto_functions.cpp); part of MakeHelmFunctions.
void AddCryptoFunctions(FunctionTable& table);

// now, date, dateInZone, htmlDate, htmlDateInZone, unixEpoch, dateModify,
// ago, duration (date_functions.cpp); part of MakeHelmFunctions.
void AddDateFunctions(FunctionTable& table);

// urlParse, urlJoin (url_functions.cpp); part of MakeHelmFunctions.
void AddUrlFunctions(FunctionTable& table);

// Standard base64 with padding (Go's base64.StdEncoding).
std::string Base64Encode(std::string_view in);

}  // namespace keelson::helm
