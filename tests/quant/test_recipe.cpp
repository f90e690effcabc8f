// Recipes: the preset table, JSON round trips, and strict reading (unknown keys and bad values are
// InputErrors naming the key).
#include <gtest/gtest.h>

#include "quant/recipe.h"

namespace qforge::quant {
namespace {

using Json = nlohmann::ordered_json;

std::string error_of(const std::string& text) {
  try {
    recipe_from_json(Json::parse(text), "r.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Recipe, PresetsMatchTheIssue) {
  const Recipe int8 = recipe_from_preset("int8");
  EXPECT_EQ(int8.mode, QuantMode::static_);
  EXPECT_EQ(int8.weights, (WeightSpec{DType::s8, QGranularity::per_channel, 0, true}));
  EXPECT_EQ(int8.activations.dtype, DType::u8);
  EXPECT_FALSE(int8.activations.symmetric);
  EXPECT_EQ(recipe_from_preset("int8-dynamic").mode, QuantMode::dynamic);
  EXPECT_EQ(recipe_from_preset("w4a8").weights.dtype, DType::s4);
  EXPECT_EQ(recipe_from_preset("w4a8").mode, QuantMode::static_);
  EXPECT_EQ(recipe_from_preset("w4a16").weights, (WeightSpec{DType::s4, QGranularity::per_group, 32, true}));
  EXPECT_EQ(recipe_from_preset("w4a16").mode, QuantMode::weight_only);
  EXPECT_EQ(recipe_from_preset("nf4").weights.dtype, DType::nf4);
  EXPECT_EQ(recipe_from_preset("fp16").mode, QuantMode::fp16);
  EXPECT_EQ(recipe_from_preset("bf16").mode, QuantMode::bf16);
  EXPECT_THROW(recipe_from_preset("int3"), InputError);
}

TEST(Recipe, JsonRoundTripsEveryPresetAndOverrides) {
  for (const RecipePreset& p : recipe_presets()) {
    Recipe r = p.make();
    r.exclude = {"conv1", "Softmax"};
    r.overrides["fc"] = NodeOverride{true, std::nullopt};
    if (r.mode == QuantMode::static_)
      r.overrides["conv2"] = NodeOverride{false, WeightSpec{DType::u8, QGranularity::per_tensor, 0, false}};
    r.activations.percentile = 99.9;
    r.smoothquant_alpha = 0.5;
    r.calib_size = 64;
    const std::string text = recipe_dump(r, true);
    EXPECT_EQ(recipe_from_json(Json::parse(text), "t"), r) << p.name;
    EXPECT_EQ(recipe_dump(recipe_from_json(Json::parse(text), "t"), true), text) << p.name;
  }
}

TEST(Recipe, MissingKeysTakeThePresetValues) {
  const Recipe r = recipe_from_json(Json::parse(R"({"format": "qforge-recipe", "version": 1, "preset": "w4a16"})"), "t");
  EXPECT_EQ(r, recipe_from_preset("w4a16"));
}

TEST(Recipe, StrictReadingNamesTheKey) {
  const std::string head = R"({"format": "qforge-recipe", "version": 1, )";
  EXPECT_NE(error_of(head + R"("colour": 1})").find("key 'colour'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("weights": {"dtyp": "s8"}})").find("key 'weights.dtyp'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("weights": {"dtype": "q3"}})").find("key 'weights.dtype'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("mode": "fast"})").find("key 'mode'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("activations": {"method": "median"}})").find("activations.method"), std::string::npos);
  EXPECT_NE(error_of(head + R"("activations": {"percentile": 120}})").find("activations.percentile"), std::string::npos);
  EXPECT_NE(error_of(head + R"("preset": "int3"})").find("key 'preset'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("opset": 9})").find("key 'opset'"), std::string::npos);
  EXPECT_NE(error_of(head + R"("overrides": {"fc": {"skp": true}}})").find("overrides.fc.skp"), std::string::npos);
  EXPECT_NE(error_of(head + R"("preset": "int8", "weights": {"dtype": "nf4"}})").find("weights.dtype"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"format": "other", "version": 1})").find("key 'format'"), std::string::npos);
  EXPECT_NE(error_of(R"({"format": "qforge-recipe", "version": 2})").find("key 'version'"), std::string::npos);
}

TEST(Recipe, AutoMethodPerTensorType) {
  const Recipe r = recipe_from_preset("int8");
  EXPECT_EQ(resolve_method(r, true), "minmax");
  EXPECT_EQ(resolve_method(r, false), "percentile");
  EXPECT_EQ(resolve_method(r, false, true), "minmax");  // a bounded activation (ReLU6)
  // The clipping methods give way to minmax on graph I/O and bounded activations; the others never.
  for (const char* m : {"entropy", "percentile"}) {
    Recipe e = r;
    e.activations.method = m;
    EXPECT_EQ(resolve_method(e, false), m);
    EXPECT_EQ(resolve_method(e, true), "minmax") << m;
    EXPECT_EQ(resolve_method(e, false, true), "minmax") << m;
  }
  for (const char* m : {"minmax", "moving-average", "mse"}) {
    Recipe e = r;
    e.activations.method = m;
    EXPECT_EQ(resolve_method(e, true, true), m);
  }
}

}  // namespace
}  // namespace qforge::quant
