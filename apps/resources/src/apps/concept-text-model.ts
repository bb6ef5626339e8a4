/**
 * The concept model behind app models: deterministic and explainable rather than statistical.
 * Training learns, per concept, the words of its name and of the texts annotated with it;
 * predicting scores each concept by the share of the text's words it knows, a word known to
 * several concepts counting for each in proportion.
 */

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have he her his i in is it its me my no not of on or our ' +
    'she so that the their them then there these they this to was we were what when which who will with you your'
  ).split(' '),
);

/** The distinct meaningful words of a text, lower-cased, in order of appearance. */
export function wordsOf(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))];
}

export interface LearnedConcept {
  id: string;
  name: string;
  /** How many annotated inputs showed it. */
  examples: number;
  words: string[];
}

export interface TrainingExample {
  conceptIds: readonly string[];
  text: string | null;
}

/** What a model with these concepts learns from these annotated inputs. */
export function learnConcepts(
  concepts: readonly { id: string; name: string }[],
  examples: readonly TrainingExample[],
): LearnedConcept[] {
  return concepts.map((concept) => {
    const words = new Set([...wordsOf(concept.id.replace(/[_-]/g, ' ')), ...wordsOf(concept.name)]);
    let count = 0;
    for (const example of examples) {
      if (!example.conceptIds.includes(concept.id)) continue;
      count++;
      if (example.text) wordsOf(example.text).forEach((w) => words.add(w));
    }
    return { id: concept.id, name: concept.name, examples: count, words: [...words].sort() };
  });
}

/** Every learned concept with its value in [0, 1] for the text, best first (ties by id). */
export function predictConcepts(
  learned: readonly LearnedConcept[],
  text: string,
): { id: string; name: string; value: number }[] {
  const words = wordsOf(text);
  const vocabularies = learned.map((c) => new Set(c.words));
  const knownBy = new Map(words.map((w) => [w, vocabularies.filter((v) => v.has(w)).length]));
  return learned
    .map((concept, i) => {
      let score = 0;
      for (const word of words) if (vocabularies[i]!.has(word)) score += 1 / knownBy.get(word)!;
      const value = words.length ? Math.round((score / words.length) * 10_000) / 10_000 : 0;
      return { id: concept.id, name: concept.name, value };
    })
    .sort((a, b) => b.value - a.value || a.id.localeCompare(b.id));
}
