"""guess: 20 Questions about one secret object, written for this project.

A hand-written table gives every object a YES / NO / MAYBE for every
attribute, so answers are consistent.  The model for one secret object
(--topic) answers questions about its attributes, says WIN when the user
names it, NO when the user names another object, IDK to nonsense.
"""
from __future__ import annotations

import random

from model.data import query_key
from model.datasets.variants import variants

OBJECTS = ["cat", "dog", "car", "apple", "tree", "phone", "book", "chair", "sun", "fish",
           "bird", "pizza", "computer", "guitar", "house", "shoe", "banana", "elephant",
           "clock", "boat"]

# attribute -> (values for OBJECTS in order, Y/N/M, phrasings)
#                      cat dog car app tre pho boo cha sun fis bir piz com gui hou sho ban ele clo boa
ATTRIBUTES: dict[str, tuple[str, list[str]]] = {
    "alive": ("YYNNYNNNNYYNNNNNNYNN", [
        "is it alive", "is it living", "is it a living thing", "does it live", "can it die"]),
    "animal": ("YYNNNNNNNYYNNNNNNYNN", [
        "is it an animal", "is it a creature", "is it a beast", "animal", "is it some animal"]),
    "plant": ("NNNYYNNNNNNNNNNNYNNN", [
        "is it a plant", "does it grow in soil", "is it vegetation", "plant", "is it from a plant"]),
    "food": ("NNNYNNNNNMNYNNNNYNNN", [
        "is it food", "can you eat it", "is it edible", "do people eat it", "food"]),
    "big": ("NNYNYNNNYNNNNNYNNYNY", [
        "is it big", "is it bigger than a breadbox", "is it large", "is it huge", "big"]),
    "small": ("NNNYNYYNNYYYNNNYYNYN", [
        "is it small", "is it tiny", "is it smaller than a breadbox", "is it little",
        "can it fit in a pocket"]),
    "heavy": ("NNYNYNNNYNNNMNYNNYNY", [
        "is it heavy", "does it weigh a lot", "is it heavier than a person", "heavy",
        "is it hard to lift"]),
    "legs": ("YYNNNNNYNNYNNNNNNYNN", [
        "does it have legs", "has it got legs", "legs", "does it stand on legs", "can it walk"]),
    "wheels": ("NNYNNNNMNNNNNNNNNNNN", [
        "does it have wheels", "has it got wheels", "wheels", "does it roll", "does it have tires"]),
    "wings": ("NNNNNNNNNNYNNNNNNNNN", [
        "does it have wings", "has it got wings", "wings", "can it fly", "does it fly"]),
    "swim": ("NYNNNNNNNYMNNNNNNYNY", [
        "can it swim", "does it swim", "is it a swimmer", "can it go in water", "swim"]),
    "water": ("NNNNNNNNNYNNNNNNNNNY", [
        "does it live in water", "is it found in water", "is it in the sea", "water",
        "is it on the water"]),
    "wood": ("NNNNYNYMNNNNNYMNNNMY", [
        "is it made of wood", "is it wooden", "wood", "is it made from trees", "is there wood in it"]),
    "metal": ("NNYNNYNMNNNNYMMNNNMM", [
        "is it made of metal", "is it metallic", "metal", "does it have metal in it", "is it steel"]),
    "plastic": ("NNMNNYNMNNNNYMNMNNMM", [
        "is it made of plastic", "is it plastic", "plastic", "does it have plastic", "is it synthetic"]),
    "electric": ("NNMNNYNNNNNNYMMNNNYN", [
        "is it electronic", "does it use electricity", "does it need power", "does it have a battery",
        "electric"]),
    "indoors": ("YYNMNYYYNNNMYYNYMNYN", [
        "is it found indoors", "is it in a house", "is it in your home", "is it inside",
        "do you keep it at home"]),
    "outdoors": ("MYYYYNNNYYYNNNYMYYNY", [
        "is it found outside", "is it outdoors", "is it outside", "do you see it outside",
        "is it in nature"]),
    "kitchen": ("NNNYNNNMNNNYNNNNYNMN", [
        "is it in the kitchen", "is it found in a kitchen", "kitchen", "would you find it in a kitchen",
        "is it kept in the kitchen"]),
    "soft": ("YYNNNNNMNYYYNNNMYNNN", [
        "is it soft", "is it squishy", "soft", "is it fluffy", "is it gentle to touch"]),
    "hard": ("NNYYYYYYNNNNYYYMNNYY", [
        "is it hard", "is it solid", "hard", "is it rigid", "is it tough"]),
    "round": ("NNNYNNNNYNNYNNNNNNYN", [
        "is it round", "is it a circle", "is it spherical", "round", "is it shaped like a ball"]),
    "red": ("NNMYNMMMNMMYNMMMNNMM", [
        "is it red", "red", "is it colored red", "can it be red", "is it the color red"]),
    "green": ("NNMYYMMMNMMNNMMMMNMM", [
        "is it green", "green", "is it colored green", "can it be green", "is it the color green"]),
    "yellow": ("MMMYNMMMYMMYNMMMYNMM", [
        "is it yellow", "yellow", "is it colored yellow", "can it be yellow", "is it colored like a banana"]),
    "sweet": ("NNNYNNNNNNNNNNNNYNNN", [
        "is it sweet", "does it taste sweet", "sweet", "is it sugary", "is it a dessert"]),
    "noise": ("YYYNNYNNNNYNYYNNNYYY", [
        "does it make noise", "does it make a sound", "is it loud", "can you hear it", "noise"]),
    "hold": ("YNNYNYYNNYYYMYNYYNYN", [
        "can you hold it", "can you carry it", "can you pick it up", "hold", "does it fit in your hand"]),
    "pet": ("YYNNNNNNNYYNNNNNNNNN", [
        "is it a pet", "can you keep it as a pet", "pet", "do people keep it as a pet",
        "is it tame"]),
    "fur": ("YYNNNNNNNNNNNNNNNNNN", [
        "does it have fur", "is it furry", "fur", "is it hairy", "does it have hair"]),
    "feathers": ("NNNNNNNNNNYNNNNNNNNN", [
        "does it have feathers", "feathers", "is it feathered", "has it got feathers",
        "does it have a beak"]),
    "leaves": ("NNNNYNNNNNNNNNNNNNNN", [
        "does it have leaves", "leaves", "does it have branches", "has it got leaves",
        "is it leafy"]),
    "fruit": ("NNNYNNNNNNNNNNNNYNNN", [
        "is it a fruit", "fruit", "does it grow on trees", "is it fruity", "is it a kind of fruit"]),
    "vehicle": ("NNYNNNNNNNNNNNNNNNNY", [
        "is it a vehicle", "vehicle", "can you ride in it", "does it carry people",
        "is it transport"]),
    "tool": ("NNMNNYNNNNNNYNNNNNYN", [
        "is it a tool", "tool", "do you use it for work", "do you use it as a tool", "is it a gadget"]),
    "music": ("NNNNNMNNNNMNMYNNNNNN", [
        "does it make music", "music", "is it an instrument", "can you play it", "does it sing"]),
    "reading": ("NNNNNMYNNNNNMNNNNNNN", [
        "can you read it", "do you read it", "reading", "does it have pages", "does it have words"]),
    "screen": ("NNMNNYNNNNNNYNNNNNMN", [
        "does it have a screen", "screen", "does it have a display", "can you watch it",
        "does it show pictures"]),
    "buttons": ("NNYNNYNNNNNNYNNNNNMN", [
        "does it have buttons", "buttons", "does it have keys", "do you press it",
        "has it got buttons"]),
    "expensive": ("MMYNNYNNNNNNYMYMNYNY", [
        "is it expensive", "does it cost a lot", "is it costly", "expensive", "is it valuable"]),
    "manmade": ("NNYNNYYYNNNYYYYYNNYY", [
        "is it man made", "did people make it", "is it artificial", "was it built",
        "is it made in a factory"]),
    "hot": ("NNNNNNNNYNNYMNNNNNNN", [
        "is it hot", "is it warm", "hot", "does it burn", "can it burn you"]),
    "wear": ("NNNNNNNNNNNNNNNYNNMN", [
        "can you wear it", "do you wear it", "wear", "is it clothing", "is it on your foot"]),
    "sit": ("NNYNNNNYNNNNNNYNNMNY", [
        "can you sit on it", "do you sit on it", "sit", "can you sit in it", "is it furniture"]),
    "sky": ("NNNNNNNNYNYNNNNNNNNN", [
        "is it in the sky", "sky", "is it up high", "can you see it in the sky", "is it above us"]),
    "tail": ("YYNNNNNNNYYNNNNNNYNN", [
        "does it have a tail", "tail", "has it got a tail", "does it wag", "does it wag its tail"]),
    "teeth": ("YYNNNNNNNMNNNNNNNNNN", [
        "does it have teeth", "teeth", "can it bite", "does it bite", "has it got teeth"]),
    "dangerous": ("NMYNNNNNYNNNNNNNNYNN", [
        "is it dangerous", "can it hurt you", "dangerous", "is it scary", "is it deadly"]),
    "smell": ("YYMYYNNNNYNYNNNYYYNN", [
        "does it smell", "smell", "does it have a smell", "can you smell it", "is it stinky"]),
    "time": ("NNNNNMNNYNNNMNNNNNYN", [
        "does it tell time", "time", "can it tell the time", "does it tick", "does it have hands"]),
    "strings": ("NNNNNNNNNNNNNYNNNNNN", [
        "does it have strings", "strings", "is it a string instrument", "do you strum it",
        "has it got strings"]),
    "trunk": ("NNNNYNNNNNNNNNNNNYNN", [
        "does it have a trunk", "trunk", "has it got a trunk", "does it have a long nose",
        "does it have a trunk on its face"]),
}

ANSWER_OF = {"Y": "YES", "N": "NO", "M": "MAYBE"}

NONSENSE = ["what is love", "asdf", "how tall is the moon", "what day is it", "qwerty",
            "why is the sky", "who am i", "what is two plus two", "tell me a joke",
            "what is your name", "blah", "xyzzy", "hello", "hi", "what time is it",
            "is it true", "what", "huh", "how are you", "what color is love",
            "do you like me", "is it maybe", "does it think", "is it a number",
            "is it the answer", "zzz", "why", "how", "who", "where"]

GUESS_FORMS = ["is it a {o}", "is it the {o}", "it is a {o}", "a {o}", "{o}", "my guess is {o}",
               "i guess {o}", "is it {o}", "are you a {o}", "it must be a {o}",
               "the answer is {o}", "i think it is a {o}", "{o} is my guess", "guess {o}"]

PREFIXES = ["so", "um", "ok", "well", "hmm", "and", "then", "next", "ok so", "tell me", "question"]
SUFFIXES = ["then", "at all", "really", "maybe", "or not", "usually", "right"]


def check_table() -> None:
    for name, (values, phrasings) in ATTRIBUTES.items():
        if len(values) != len(OBJECTS) or set(values) - set("YNM"):
            raise ValueError(f"attribute {name}: {len(values)} values {values!r}")
        if len(phrasings) < 3:
            raise ValueError(f"attribute {name}: too few phrasings")


def _generate(topic: str, seed: int, per_attribute: int, exclude: set[str]) -> list[tuple[str, str]]:
    check_table()
    if topic not in OBJECTS:
        raise ValueError(f"unknown topic {topic!r}; choose one of: {', '.join(OBJECTS)}")
    index = OBJECTS.index(topic)
    rng = random.Random(seed)
    owner: dict[str, str] = {}
    rows: list[tuple[str, str]] = []

    def add(text: str, answer: str) -> None:
        key = query_key(text)
        if key in exclude or owner.setdefault(key, answer) != answer:
            return
        rows.append((text, answer))

    groups: list[tuple[list[str], str, bool]] = []
    for values, phrasings in ATTRIBUTES.values():
        groups.append((phrasings, ANSWER_OF[values[index]], True))
    for obj in OBJECTS:
        forms = [f.format(o=obj) for f in GUESS_FORMS]
        groups.append((forms, "WIN" if obj == topic else "NO", False))
    groups.append((NONSENSE, "IDK", False))
    # the hand-written phrasings claim their answer before any variant
    for phrasings, answer, _ in groups:
        for p in phrasings:
            owner.setdefault(query_key(p), answer)
    for phrasings, answer, is_attribute in groups:
        count = per_attribute if answer != "IDK" else per_attribute * 3
        if answer == "WIN":
            count = per_attribute * 4      # the one answer that must never be missed
        for text in variants(phrasings, rng, count + len(exclude) // 60, PREFIXES, SUFFIXES,
                             reorder=is_attribute):
            add(text, answer)
    return rows


def _bare(query: str) -> str:
    """A query without case or final punctuation: held-out queries must differ
    from every training query by more than that."""
    return query_key(query).rstrip(" ?!.")


def generate(topic: str = "cat", seed: int = 1, per_attribute: int = 40) -> list[tuple[str, str]]:
    """Training pairs (query, answer) for one secret object."""
    return _generate(topic, seed, per_attribute, set())


def generate_heldout(topic: str = "cat", seed: int = 1, per_attribute: int = 40,
                     count: int = 4) -> list[tuple[str, str]]:
    """Variants not in generate(topic, seed): held-out phrasings."""
    train_keys = {_bare(q) for q, _ in generate(topic, seed, per_attribute)}
    rows = _generate(topic, seed * 7919 + 17, per_attribute + count * 3, train_keys)
    rows = [(q, a) for q, a in rows if _bare(q) not in train_keys]
    step = max(1, len(rows) // (count * (len(ATTRIBUTES) + len(OBJECTS) + 1)))
    return rows[::step]
