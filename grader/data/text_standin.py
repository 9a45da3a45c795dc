"""A small Spanish-like corpus for `rnn_text`, generated from a grammar: demo and tests only.

No copyrighted or downloaded text may sit in the repository, and the grading machines are
offline, so the stand-in is written by this module: sentences drawn from a small lexicon with
gender and number agreement, two tenses, questions, exclamations and dialogue, so the text has
Spanish letters (á é í ó ú ñ ü), capitals, punctuation (¿ ? ¡ ! , . —) and line breaks. It is
regular enough that a small character LSTM learns its words in a few CPU epochs, and random
enough that no model can memorise the held-out part.

One seeded stream (`random.Random`, whose sequence CPython keeps stable) is cut in two at a
paragraph boundary: the first part is the public training text students load, the second is
the held-out text the grader scores on and never sends whole into the sandbox.
"""
from __future__ import annotations

import random
from pathlib import Path

from ..export.atomic import write_atomic
from .standin import cache_dir

VERSION = "v1"
SEED = 20260331
TRAIN_CHARS = 120_000
HIDDEN_CHARS = 60_000
PUBLIC_NAME = "corpus_es.txt"  # the file name the notebook asks keras.utils.get_file for

# (singular, plural); gender by list
MASC = [("gato", "gatos"), ("perro", "perros"), ("niño", "niños"), ("libro", "libros"),
        ("río", "ríos"), ("árbol", "árboles"), ("camino", "caminos"), ("pueblo", "pueblos"),
        ("maestro", "maestros"), ("barco", "barcos"), ("caballo", "caballos"),
        ("jardín", "jardines"), ("pájaro", "pájaros"), ("viento", "vientos"), ("mar", "mares"),
        ("molino", "molinos"), ("campo", "campos"), ("médico", "médicos"), ("reloj", "relojes"),
        ("pingüino", "pingüinos")]
FEM = [("casa", "casas"), ("niña", "niñas"), ("montaña", "montañas"), ("ciudad", "ciudades"),
       ("luz", "luces"), ("puerta", "puertas"), ("ventana", "ventanas"), ("abuela", "abuelas"),
       ("mesa", "mesas"), ("canción", "canciones"), ("noche", "noches"), ("calle", "calles"),
       ("flor", "flores"), ("lluvia", "lluvias"), ("escuela", "escuelas"), ("plaza", "plazas"),
       ("estrella", "estrellas"), ("maestra", "maestras"), ("carta", "cartas"), ("cigüeña", "cigüeñas")]
# adjectives: masculine singular; -o words inflect, the rest take -s/-es only
ADJ = ["pequeño", "grande", "viejo", "nuevo", "rojo", "blanco", "oscuro", "tranquilo", "hermoso",
       "antiguo", "alegre", "triste", "rápido", "lento", "verde", "azul", "feliz", "joven",
       "cansado", "último"]
# verbs: (present sg, present pl, past sg, past pl)
V_TR = [("mira", "miran", "miró", "miraron"), ("busca", "buscan", "buscó", "buscaron"),
        ("encuentra", "encuentran", "encontró", "encontraron"), ("lleva", "llevan", "llevó", "llevaron"),
        ("pinta", "pintan", "pintó", "pintaron"), ("abre", "abren", "abrió", "abrieron"),
        ("escribe", "escriben", "escribió", "escribieron"), ("lee", "leen", "leyó", "leyeron"),
        ("cuida", "cuidan", "cuidó", "cuidaron"), ("espera", "esperan", "esperó", "esperaron"),
        ("recuerda", "recuerdan", "recordó", "recordaron"), ("oye", "oyen", "oyó", "oyeron")]
V_IN = [("duerme", "duermen", "durmió", "durmieron"), ("corre", "corren", "corrió", "corrieron"),
        ("canta", "cantan", "cantó", "cantaron"), ("sale", "salen", "salió", "salieron"),
        ("llega", "llegan", "llegó", "llegaron"), ("vive", "viven", "vivió", "vivieron"),
        ("camina", "caminan", "caminó", "caminaron"), ("descansa", "descansan", "descansó", "descansaron"),
        ("sueña", "sueñan", "soñó", "soñaron"), ("ríe", "ríen", "rio", "rieron")]
NAMES = ["Ana", "Luis", "Marta", "Pablo", "Elena", "Jorge", "Sofía", "Tomás", "Inés", "Íñigo",
         "Begoña", "Óscar", "Ángela", "Raúl", "Úrsula"]
PREP = ["en", "junto a", "cerca de", "bajo", "sobre", "hacia", "por", "desde"]
TIME = ["por la mañana", "cada tarde", "al amanecer", "aquella noche", "hoy", "ayer", "siempre",
        "de repente", "en invierno", "después de comer", "a veces", "por fin"]
JOIN = ["y", "pero", "mientras", "porque", "cuando", "aunque"]
SAY = ["dijo", "preguntó", "contestó", "susurró", "gritó"]
QUESTION = ["Dónde", "Por qué", "Cuándo", "Cómo"]


def _adj(word: str, fem: bool, plural: bool) -> str:
    if word.endswith("o"):
        stem = word[:-1]
        return stem + ("a" if fem else "o") + ("s" if plural else "")
    if not plural:
        return word
    if word.endswith("z"):
        return word[:-1] + "ces"
    if word == "joven":
        return "jóvenes"
    return word + ("s" if word[-1] in "aeiou" else "es")


class _Grammar:
    def __init__(self, rng: random.Random):
        self.r = rng

    def noun(self) -> tuple[str, bool, bool]:
        """(noun phrase without determiner, feminine, plural)"""
        fem = self.r.random() < 0.5
        sing, plur = self.r.choice(FEM if fem else MASC)
        plural = self.r.random() < 0.3
        word = plur if plural else sing
        if self.r.random() < 0.45:
            word += " " + _adj(self.r.choice(ADJ), fem, plural)
        return word, fem, plural

    def np(self, definite: bool | None = None) -> tuple[str, bool]:
        """(noun phrase, plural)"""
        if self.r.random() < 0.2:
            return self.r.choice(NAMES), False
        word, fem, plural = self.noun()
        if definite is None:
            definite = self.r.random() < 0.7
        dets = ([["el", "la"], ["los", "las"]] if definite else [["un", "una"], ["unos", "unas"]])
        det = dets[plural][fem]
        if self.r.random() < 0.15:
            det = self.r.choice([["este", "esta"], ["aquel", "aquella"], ["mi", "mi"], ["su", "su"]])[fem]
            if plural:
                det = {"este": "estos", "esta": "estas", "aquel": "aquellos", "aquella": "aquellas",
                       "mi": "mis", "su": "sus"}[det]
        return f"{det} {word}", plural

    def pp(self) -> str:
        prep = self.r.choice(PREP)
        phrase, _ = self.np(definite=True)
        text = f"{prep} {phrase}"
        return text.replace(" a el ", " al ").replace(" de el ", " del ")

    def clause(self, past: bool) -> str:
        subj, plural = self.np()
        if self.r.random() < 0.5:
            verb = self.r.choice(V_TR)[plural + 2 * past]
            obj, _ = self.np()
            if obj in NAMES:
                obj = "a " + obj
            text = f"{subj} {verb} {obj}"
        else:
            verb = self.r.choice(V_IN)[plural + 2 * past]
            text = f"{subj} {verb}"
        if self.r.random() < 0.5:
            text += " " + self.pp()
        return text.replace(" a el ", " al ")

    def sentence(self, past: bool) -> str:
        kind = self.r.random()
        if kind < 0.08:
            subj, plural = self.np(definite=True)
            verb = self.r.choice(V_IN)[plural + 2 * past]
            return f"¿{self.r.choice(QUESTION)} {verb} {subj}?"
        if kind < 0.14:
            word, fem, plural = self.noun()
            det = [["el", "la"], ["los", "las"]][plural][fem]
            adj = _adj(self.r.choice(ADJ), fem, plural)
            return f"¡Qué {adj} {'son' if plural else 'es'} {det} {word.split()[0]}!"
        if kind < 0.24:
            said = self.clause(past=False)
            return f"—{said[0].upper()}{said[1:]} —{self.r.choice(SAY)} {self.r.choice(NAMES)}."
        text = self.clause(past)
        if self.r.random() < 0.3:
            text = f"{self.r.choice(TIME)}, {text}"
        if self.r.random() < 0.35:
            text += f" {self.r.choice(JOIN)} {self.clause(past)}"
        return text[0].upper() + text[1:] + "."

    def paragraph(self) -> str:
        past = self.r.random() < 0.5
        return " ".join(self.sentence(past) for _ in range(self.r.randint(3, 7)))


def make_text_standin(seed: int = SEED, train_chars: int = TRAIN_CHARS,
                      hidden_chars: int = HIDDEN_CHARS) -> tuple[str, str]:
    """(public training text, held-out text): one seeded stream cut at a paragraph boundary."""
    grammar = _Grammar(random.Random(seed))
    parts: list[list[str]] = [[], []]
    for i, want in enumerate((train_chars, hidden_chars)):
        size = 0
        while size < want:
            para = grammar.paragraph()
            parts[i].append(para)
            size += len(para) + 1
    return "\n".join(parts[0]) + "\n", "\n".join(parts[1]) + "\n"


def ensure_text_standin(directory: Path | None = None) -> dict[str, Path]:
    """Generate (once) and return {"corpus_es.txt": public file, "hidden": held-out file}."""
    directory = Path(directory or cache_dir()) / f"text-standin-{VERSION}"
    public_path = directory / "public" / PUBLIC_NAME
    hidden_path = directory / "hidden" / "corpus_es_hidden.txt"
    if not (public_path.exists() and hidden_path.exists()):
        public, hidden = make_text_standin()
        write_atomic(hidden_path, hidden)
        write_atomic(public_path, public)
    return {PUBLIC_NAME: public_path, "hidden": hidden_path}
