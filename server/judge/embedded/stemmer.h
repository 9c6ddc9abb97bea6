// The lexical heuristic's stemmer: crude English suffix stripping, enough to
// make inflections of one word meet ("recommends", "recommended",
// "recommendation" -> "recommend"), far from Porter. Words with anything but
// ASCII lowercase letters are left as they are (English rules only).
//
//   std::string w = LowerUtf8("Recommended");
//   StemInPlace(w);  // "recommend"
//
// Thread-safety: a pure function; safe from any thread.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_STEMMER_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_STEMMER_H_

#include <string>

namespace rewardd {

// Strips one English suffix from `word` (already lowercased) in place.
void StemInPlace(std::string& word);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_STEMMER_H_
