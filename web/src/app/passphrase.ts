// Random words for passphrases and session ids. The list has exactly 256 entries, so one
// random byte picks one word without modulo bias: each word adds 8 bits of entropy.
const LIST = `
acorn actor adobe agent alarm album alley amber anchor angle apple apron
arena arrow aspen atlas attic autumn axis bacon badge bagel baker balloon
bamboo banjo barn basil beach beacon bean beetle bell bench berry bison
blade blanket blossom board boat bonus book boot bottle boulder bowl brass
bread brick bridge brook broom bucket bugle butter button cabin cactus cake
camel camera candle canoe canyon carbon carpet carrot castle cedar cello chalk
cherry chess cider circle citrus clay cliff clock cloud clover coast cobalt
cocoa comet compass copper coral cotton cougar crane crater crayon crystal cup
daisy dance delta denim desert diary dolphin dragon drum dune eagle echo
elbow ember engine fabric falcon feather fennel fern ferry fiddle field fig
flame flute forest fossil fox frost galaxy garden garlic gecko ginger globe
grape gravel guitar hammer harbor hazel helmet heron honey horizon island ivory
jacket jade jelly jungle kayak kettle kiwi ladder lagoon lantern lemon lily
linen lizard lotus magnet mango maple marble meadow melon meteor mint mirror
mitten moose mosaic moss muffin nectar needle nest noodle oak oasis ocean
olive onion orbit orchid otter owl paddle palm panda paper parrot peach
pebble pepper piano pillow pine planet plum pocket pony poppy puzzle quartz
quill rabbit radar radish raven reef ribbon river robin rocket saddle salmon
satin scarf shell silver sketch sled socket spark spider sponge spruce squash
statue stone summit sunset swan tango teapot thunder tiger timber toast tomato
topaz torch tulip tundra turtle valley velvet violet walnut walrus willow window
winter wizard wolf zebra
`

export const WORDS: readonly string[] = LIST.trim().split(/\s+/)

/** Words whose indexes come from crypto.getRandomValues (available in insecure contexts too). */
export function randomWords(count: number): string[] {
  const bytes = new Uint8Array(count)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => WORDS[b])
}

/** A uniformly random integer in [0, max) without modulo bias. */
export function randomInt(max: number): number {
  const limit = Math.floor(0x1_0000_0000 / max) * max
  const buf = new Uint32Array(1)
  do crypto.getRandomValues(buf)
  while (buf[0] >= limit)
  return buf[0] % max
}

/** Six words give 48 bits, before the PBKDF2 work factor the session adds on top. */
export const PASSPHRASE_WORDS = 6

export function generatePassphrase(words = PASSPHRASE_WORDS): string {
  return randomWords(words).join('-')
}

/** A rough strength hint shown under the passphrase field; it never blocks joining. */
export function passphraseHint(pass: string): string | null {
  if (pass === '') return null
  if (pass.length < 8) return 'Short passphrase: anyone who guesses it can read everything shared.'
  if (pass.length < 14 && !/\s|-/.test(pass)) return 'Consider a longer passphrase, e.g. several random words.'
  return null
}
