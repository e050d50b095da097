#pragma once
/// Structured errors shared by every stage of the pipeline.
// They live in the installed public header so embedding programs catch the very types the
// library throws; this header keeps the internal include path working.
#include "robocache/errors.h"
