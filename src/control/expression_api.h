// The expression routes of the REST API: POST /api/v1/filter/validate and
// POST /api/v1/transform/expression/evaluate (expressions.md §2.8), with GlassFlow's
// request shapes, status codes and error texts. Pure functions of the request body.
#pragma once

#include <string>
#include <string_view>

#include "control/api_error.h"

namespace sluice::control {

// OK (an empty ApiError) when the filter compiles against the declared fields (or, a
// Sluice addition, against an OTLP source's flattened schema given as "source_type") and
// gives a bool on a sample of zero values; 400 validation_error otherwise; 422 for a body
// of the wrong shape.
ApiError ValidateFilter(std::string_view body);

// Runs a stateless transform on "sample": *out is the output record's JSON (GlassFlow's
// encoding: keys sorted, float64 outputs with a decimal point). 400 otherwise.
ApiError EvaluateTransform(std::string_view body, std::string* out);

}  // namespace sluice::control
