#include "services/institution/search_index.h"

#include <string>
#include <vector>

#include "common/text_fold.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord::institution {
namespace {

struct Keys {
  std::string folded;
  std::string latin;
  std::string skeleton;
  bool operator==(const Keys&) const = default;
};

std::vector<Keys> Decode(absl::string_view value) {
  DecodedSearchEntry entry;
  DecodeSearchEntry(value, entry);
  std::vector<Keys> keys;
  for (const SearchKeysView& name : entry.names) {
    keys.push_back({std::string(name.folded), std::string(name.latin),
                    std::string(name.skeleton)});
  }
  return keys;
}

Keys KeysOf(absl::string_view text) {
  const SearchKeys keys = MakeSearchKeys(text);
  return {keys.folded, keys.latin, keys.skeleton};
}

TEST(SearchIndexTest, RoundTripsEveryKeyInNameOrder) {
  const std::vector<std::string> names = {
      "Tehran University of Medical Sciences", "دانشگاه علوم پزشکی تهران",
      "Московский университет", "TUMS"};
  const std::string value = EncodeSearchEntry(names);
  EXPECT_TRUE(IsCurrentSearchEntry(value));
  EXPECT_THAT(Decode(value),
              ::testing::ElementsAre(KeysOf(names[0]), KeysOf(names[1]),
                                     KeysOf(names[2]), KeysOf(names[3])));
}

TEST(SearchIndexTest, FoldedNamesComeFirstForOlderReplicas) {
  const std::string value =
      EncodeSearchEntry({"Bakı Dövlət Universiteti", "دانشگاه تهران"});
  EXPECT_EQ(value.substr(0, value.find(kSearchKeysMarker)),
            "baki dovlet universiteti\nدانشگاه تهران\n");
  // A Latin key equal to the folded name is not stored twice.
  EXPECT_THAT(value, ::testing::HasSubstr("\x1e\x02\n\ndanshgah thran\n"));
}

TEST(SearchIndexTest, OlderFormatGetsKeysComputed) {
  // One folded name per line, folded before ı and ə were.
  const std::string old_value = "bakı dovlət universiteti\nдонишгоҳи тоҷик";
  EXPECT_FALSE(IsCurrentSearchEntry(old_value));
  const std::vector<Keys> keys = Decode(old_value);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], KeysOf("Bakı Dövlət Universiteti"));
  EXPECT_EQ(keys[1].folded, "донишгохи точик");
  EXPECT_EQ(keys[1].latin, "donishgokhi tochik");
  EXPECT_FALSE(IsCurrentSearchEntry(""));
}

TEST(SearchIndexTest, DamagedValueIsReadAsOlderFormat) {
  std::string value = EncodeSearchEntry({"Alpha", "Бета"});
  value.pop_back();
  value += "\nextra";
  EXPECT_FALSE(IsCurrentSearchEntry(value));
  EXPECT_FALSE(Decode(value).empty());
}

TEST(SearchIndexTest, DecodeReusesTheEntry) {
  DecodedSearchEntry entry;
  const std::string current = EncodeSearchEntry({"Alpha", "Бета"});
  DecodeSearchEntry("alpha\nбета", entry);
  EXPECT_EQ(entry.names.size(), 2u);
  DecodeSearchEntry(current, entry);
  ASSERT_EQ(entry.names.size(), 2u);
  EXPECT_TRUE(entry.computed.empty());
  EXPECT_EQ(entry.names[1].latin, "beta");
}

}  // namespace
}  // namespace accord::institution
