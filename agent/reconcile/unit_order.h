// Order of units from their dependsOn edges.
#pragma once

#include <string>
#include <vector>

#include "agent/config/environment.h"
#include "renderers/manifest/result.h"

namespace keelson::reconcile {

// Units in levels: every unit's dependencies sit in earlier levels, so the
// units of one level may run concurrently. Within a level, declaration
// order. A cycle is an error naming it ("a -> b -> a"); an unknown
// dependency is an error naming the unit.
Result<std::vector<std::vector<std::string>>> OrderUnits(const std::vector<config::UnitSpec>& units);

}  // namespace keelson::reconcile
