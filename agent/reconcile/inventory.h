// What a unit applied last time: the identities of its objects at the last
// revision that became healthy. Pruning deletes what left the render since;
// rollback re-applies that revision. Stored twice: in the state directory
// (fast, survives the cluster being unreachable) and in the cluster as a
// ConfigMap keelson-system/keelson-inventory-<unit> (so a new agent instance
// on a fresh disk finds it). The cluster copy wins when both exist.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/client.h"
#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::reconcile {

inline constexpr const char* kInventoryNamespace = "keelson-system";

struct Inventory {
  std::string unit;
  std::string revision;  // the Git revision these objects came from
  std::vector<manifest::ResourceId> objects;

  std::string ToJson() const;
  static Result<Inventory> FromJson(std::string_view text, const std::string& origin);
};

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;
  // std::nullopt when the unit has never been applied.
  virtual Result<std::optional<Inventory>> Load(const std::string& unit) = 0;
  virtual Status Save(const Inventory& inventory) = 0;
};

// <dir>/<unit>.json, written atomically (temp file, fsync, rename, fsync dir).
class FileInventoryStore final : public InventoryStore {
 public:
  explicit FileInventoryStore(std::string dir);
  Result<std::optional<Inventory>> Load(const std::string& unit) override;
  Status Save(const Inventory& inventory) override;

 private:
  std::string dir_;
};

// A ConfigMap per unit in keelson-system (the namespace is applied first if
// it is missing).
class ClusterInventoryStore final : public InventoryStore {
 public:
  explicit ClusterInventoryStore(cluster::ClusterClient& client);
  Result<std::optional<Inventory>> Load(const std::string& unit) override;
  Status Save(const Inventory& inventory) override;

 private:
  cluster::ClusterClient& client_;
};

// Reads the cluster copy first and falls back to the file; saves to both
// (the file first, so a crash between the two keeps the local copy).
class MirroredInventoryStore final : public InventoryStore {
 public:
  MirroredInventoryStore(InventoryStore& primary, InventoryStore& local);
  Result<std::optional<Inventory>> Load(const std::string& unit) override;
  Status Save(const Inventory& inventory) override;

 private:
  InventoryStore& primary_;
  InventoryStore& local_;
};

// Writes a file atomically: temp file in the same directory, fsync, rename,
// fsync of the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace keelson::reconcile
