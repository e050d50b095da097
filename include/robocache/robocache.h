#pragma once
/// RoboCache's public C++ API: `#include <robocache/robocache.h>`, link `robocache::robocache`.
///
///   robocache::api::Engine engine;                                  // cache in ~/.cache/robocache
///   auto spec = robocache::api::Spec::load("robot.json");          // or Spec(api::Resample{...})
///   auto kernel = engine.compile(spec, "cpu");                      // "auto", "cuda", "sm_90"
///   auto plan = kernel.plan({data, src_times, tgt_times});          // output shape and dtype
///   kernel.run({data, src_times, tgt_times}, out);                  // + stream on CUDA
#include "robocache/array.h"
#include "robocache/dtype.h"
#include "robocache/engine.h"
#include "robocache/errors.h"
#include "robocache/kernel.h"
#include "robocache/spec.h"
