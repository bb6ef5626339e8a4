import { learnConcepts, predictConcepts, wordsOf } from './concept-text-model';

describe('concept text model', () => {
  const concepts = [
    { id: 'dog', name: 'Dog' },
    { id: 'cat', name: 'Cat' },
    { id: 'bird_song', name: 'Bird song' },
  ];
  const learned = learnConcepts(concepts, [
    { conceptIds: ['dog'], text: 'A puppy barking at the mailman' },
    { conceptIds: ['dog'], text: 'Leash and a tennis ball' },
    { conceptIds: ['cat'], text: 'Kitten purring on the sofa' },
    { conceptIds: ['cat', 'dog'], text: 'Pets sleeping on the sofa' },
    { conceptIds: ['cat'], text: null },
  ]);

  it('keeps the meaningful words, lower-cased and once', () => {
    expect(wordsOf('The Dog and THE dog, a friend!')).toEqual(['dog', 'friend']);
  });

  it('learns each concept from its name and its annotated texts', () => {
    expect(learned.map((c) => [c.id, c.examples])).toEqual([
      ['dog', 3],
      ['cat', 3],
      ['bird_song', 0],
    ]);
    expect(learned[0]!.words).toEqual(
      expect.arrayContaining(['dog', 'puppy', 'barking', 'leash', 'pets', 'sofa']),
    );
    expect(learned[2]!.words).toEqual(['bird', 'song']);
  });

  it('scores the concept whose examples match the text highest, deterministically', () => {
    const out = predictConcepts(learned, 'a puppy with a ball');
    expect(out[0]).toEqual({ id: 'dog', name: 'Dog', value: 1 });
    expect(out.slice(1)).toEqual([
      { id: 'bird_song', name: 'Bird song', value: 0 },
      { id: 'cat', name: 'Cat', value: 0 },
    ]);
    expect(predictConcepts(learned, 'a puppy with a ball')).toEqual(out);
  });

  it('shares a word known to several concepts among them', () => {
    const [first, second] = predictConcepts(learned, 'kitten on the sofa');
    expect(first).toEqual({ id: 'cat', name: 'Cat', value: 0.75 });
    expect(second).toEqual({ id: 'dog', name: 'Dog', value: 0.25 });
  });

  it('gives every concept 0 for a text without meaningful words', () => {
    expect(predictConcepts(learned, 'the and of').every((c) => c.value === 0)).toBe(true);
  });
});
