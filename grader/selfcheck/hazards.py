"""What works on the student's machine and breaks when the grader re-runs the notebook: paths that
exist only there, Google Colab and Drive, installs and downloads (no network when grading), files
that are not handed in, a notebook over the upload limit.

Each finding names the cell and the line, says why it breaks and how to fix it; `blocking` ones
cost points at grading time, the others are advice.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from ..messages import fmt_num, tr
from . import files as F
from .astinfo import aliases, constants, is_ipython, qualified, string_value, walk
from .notebook import CodeCell
from .shell import commands, package_name, provided_packages

CATALOG = {
    "absolute_path": {
        "es": "la ruta absoluta «{path}» solo existe en tu ordenador o en tu Drive: al corregir no existirá. "
              "Deja el fichero junto al cuaderno, entrégalo con él y ábrelo con una ruta relativa.",
        "en": "the absolute path '{path}' exists only on your machine or Drive: it will not exist when the "
              "notebook is graded. Put the file next to the notebook, hand it in with it and open it with a "
              "relative path."},
    "drive_mount": {
        "es": "drive.mount(...): al corregir no hay Google Drive ni Colab, así que esta celda fallará. Quita el "
              "montaje y no leas ficheros de Drive.",
        "en": "drive.mount(...): there is no Google Drive or Colab when grading, so this cell will fail. Remove "
              "the mount and do not read files from Drive."},
    "colab_import": {
        "es": "`{module}` solo existe en Google Colab: al corregir la importación fallará. Quítala.",
        "en": "`{module}` exists only in Google Colab: the import will fail when grading. Remove it."},
    "colab_guarded": {
        "es": "usa `{module}` dentro de un if/try: comprueba que el cuaderno funciona igual fuera de Colab "
              "(al corregir no hay Colab ni Drive).",
        "en": "uses `{module}` inside an if/try: make sure the notebook works the same outside Colab (there is "
              "no Colab or Drive when grading)."},
    "install_provided": {
        "es": "`{command}`: al corregir no hay red y no se instala nada; {packages} ya está en el entorno de "
              "corrección, así que puedes quitar la línea.",
        "en": "`{command}`: there is no network when grading and nothing gets installed; {packages} is already "
              "in the grading environment, so you can remove the line."},
    "install_missing": {
        "es": "`{command}`: al corregir no hay red, así que {packages} no se instalará y fallará lo que lo use. "
              "El cuaderno debe funcionar solo con lo que hay en el entorno de corrección (TensorFlow, NumPy, "
              "matplotlib, scikit-learn, pandas, Pillow).",
        "en": "`{command}`: there is no network when grading, so {packages} will not be installed and whatever "
              "uses it fails. The notebook must work with what the grading environment has (TensorFlow, "
              "NumPy, matplotlib, scikit-learn, pandas, Pillow)."},
    "system_install": {
        "es": "`{command}`: al corregir no se pueden instalar paquetes del sistema (ni hay red).",
        "en": "`{command}`: system packages cannot be installed when grading (and there is no network)."},
    "download": {
        "es": "`{command}` descarga de internet, y al corregir no hay red: entrega el fichero junto al cuaderno "
              "o usa los datos que carga el enunciado.",
        "en": "`{command}` downloads from the internet, and there is no network when grading: hand the file in "
              "with the notebook or use the data the assignment loads."},
    "keras_download": {
        "es": "`{command}` descarga «{file}», que el corrector no tiene (sin red solo sirve: {served}).",
        "en": "`{command}` downloads '{file}', which the grader does not have (offline it only serves: {served})."},
    "weights": {
        "es": "`{command}` descarga pesos preentrenados; al corregir no hay red y el corrector solo sirve: "
              "{served}. Comprueba que el enunciado lo permite.",
        "en": "`{command}` downloads pretrained weights; there is no network when grading and the grader only "
              "serves: {served}. Check that the assignment allows it."},
    "missing_file": {
        "es": "lee «{path}», que no está junto al cuaderno: al corregir no existirá. Entrégalo en Moodle junto "
              "al cuaderno, en la misma carpeta, o no lo uses.",
        "en": "reads '{path}', which is not next to the notebook: it will not exist when grading. Hand it in on "
              "Moodle together with the notebook, in the same folder, or do not use it."},
    "maybe_extracted": {
        "es": "lee «{path}», que no está junto al cuaderno; si sale de un fichero comprimido que descomprime el "
              "cuaderno, entrega ese fichero.",
        "en": "reads '{path}', which is not next to the notebook; if it comes from an archive the notebook "
              "unpacks, hand that archive in."},
    "hand_in": {
        "es": "lee «{path}»: entrégalo en Moodle junto al cuaderno (en la misma carpeta), o al corregir no "
              "existirá.",
        "en": "reads '{path}': hand it in on Moodle together with the notebook (same folder), or it will not "
              "exist when grading."},
    "local_module": {
        "es": "importa «{module}», que es un fichero tuyo junto al cuaderno ({file}): entrégalo también.",
        "en": "imports '{module}', your own file next to the notebook ({file}): hand it in too."},
    "too_large": {
        "es": "el cuaderno ocupa {size} MB y el límite de entrega es {limit} MB: borra salidas enormes (imprimir "
              "arrays enteros, muchas imágenes), vuelve a ejecutarlo y guárdalo.",
        "en": "the notebook is {size} MB and the upload limit is {limit} MB: remove huge outputs (whole arrays "
              "printed, many images), run it again and save it."},
    "selfcheck_cell": {
        "es": "`{command}` es de la autocomprobación: borra esa celda antes de entregar (al corregir no hay red ni "
              "paquete `grader`, y la celda daría error).",
        "en": "`{command}` is the self-check's: delete that cell before handing in (when grading there is no "
              "network nor `grader` package, and the cell would fail)."},
    "nothing_served": {"es": "nada", "en": "nothing"},
}
CLASS_INDEX = "imagenet_class_index.json"  # what keras.applications' decode_predictions downloads
#: The student package itself (its name, or its wheel's file name in a path or URL).
_GRADER_PACKAGE = re.compile(r"dl[-_.]notebook[-_.]grader", re.I)

#: keras.datasets.<name>.load_data() -> the files Keras asks get_file for (any one of each group).
KERAS_DATASETS = {
    "mnist": [{"mnist.npz"}], "imdb": [{"imdb.npz"}], "reuters": [{"reuters.npz"}],
    "boston_housing": [{"boston_housing.npz"}], "california_housing": [{"california_housing.npz"}],
    "cifar10": [{"cifar-10-batches-py", "cifar-10-python.tar.gz"}],
    "cifar100": [{"cifar-100-python", "cifar-100-python.tar.gz"}],
    "fashion_mnist": [{"train-labels-idx1-ubyte.gz"}, {"train-images-idx3-ubyte.gz"},
                      {"t10k-labels-idx1-ubyte.gz"}, {"t10k-images-idx3-ubyte.gz"}],
}
DOWNLOAD_CALLS = {"urllib.request.urlretrieve", "urllib.request.urlopen", "requests.get", "requests.post",
                  "requests.request", "wget.download", "gdown.download", "gdown.download_folder",
                  "tensorflow_datasets.load", "tensorflow_datasets.builder", "datasets.load_dataset",
                  "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download",
                  "kagglehub.dataset_download", "kagglehub.model_download", "tensorflow_hub.load",
                  "tensorflow_hub.KerasLayer", "torch.hub.load", "opendatasets.download"}


@dataclass
class Finding:
    kind: str
    message: str
    blocking: bool
    cell: int | None = None
    snippet: str = ""
    path: str = ""  # a file to hand in with the notebook (hand_in, local_module)


def find_hazards(cells: list[CodeCell], notebook: Path, served: list[str], lang: str,
                 size_limit_mb: float) -> list[Finding]:
    """Every grading-time hazard, in cell order. `served`: the files the grader serves to Keras offline."""
    out: list[Finding] = []
    size = notebook.stat().st_size
    if size > size_limit_mb * 2**20:
        out.append(Finding("too_large", tr(CATALOG, "too_large", lang, size=fmt_num(size / 2**20, lang, 2),
                                           limit=fmt_num(size_limit_mb, lang, 2)), True))
    names, consts = aliases(cells), constants(cells)
    provided = provided_packages()
    served_text = ", ".join(served) or tr(CATALOG, "nothing_served", lang)
    for cell in cells:
        for marker, line in cell.shell:
            out += _shell(cell, marker, line, provided, lang)
        if cell.tree is not None:
            out += _code(cell, names, consts, provided, set(served), served_text, lang)
    facts = F.analyse(cells, names, consts)
    for number, path, snippet in facts.absolute:
        out.append(Finding("absolute_path", tr(CATALOG, "absolute_path", lang, path=path), True, number, snippet))
    folder = notebook.parent
    for use in F.needed_files(facts.uses):
        if F.present(folder, use.path):
            out.append(Finding("hand_in", tr(CATALOG, "hand_in", lang, path=use.path), False, use.cell, use.snippet,
                               use.path))
        else:
            key = "maybe_extracted" if facts.extracts else "missing_file"
            out.append(Finding(key, tr(CATALOG, key, lang, path=use.path), not facts.extracts, use.cell, use.snippet))
    out += _local_modules(cells, folder, lang)
    said = {(f.cell, f.snippet) for f in out if f.kind != "absolute_path"}
    seen, unique = set(), []
    for f in sorted(out, key=lambda f: (f.cell or 0)):
        key = (f.kind, f.cell, "" if f.kind == "selfcheck_cell" else f.message)  # one per self-check cell
        if f.kind == "absolute_path" and (f.cell, f.snippet) in said:
            continue  # `drive.mount("/content/drive")`: the mount's finding already says it
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _shell(cell: CodeCell, marker: str, line: str, provided: set[str], lang: str) -> list[Finding]:
    out = []
    shown = f"{marker}{line}"
    for cmd in commands(marker, line):
        if cmd.kind == "install":
            out.append(_install(cell.number, shown, cmd.packages, provided, lang))
        elif cmd.kind == "system_install":
            out.append(Finding("system_install", tr(CATALOG, "system_install", lang, command=shown), True,
                               cell.number, shown))
        elif cmd.kind == "download":
            out.append(Finding("download", tr(CATALOG, "download", lang, command=shown), True, cell.number, shown))
    return out


def _install(cell: int, shown: str, packages: list[str], provided: set[str], lang: str) -> Finding:
    if any(_GRADER_PACKAGE.search(p) for p in packages):  # the release's self-check instructions
        return Finding("selfcheck_cell", tr(CATALOG, "selfcheck_cell", lang, command=shown), False, cell, shown)
    names = [package_name(p) for p in packages]
    missing = [p for p, n in zip(packages, names) if n is None or n not in provided]
    if missing:
        return Finding("pip_install", tr(CATALOG, "install_missing", lang, command=shown,
                                         packages=", ".join(missing)), True, cell, shown)
    return Finding("pip_install", tr(CATALOG, "install_provided", lang, command=shown,
                                     packages=", ".join(packages) or "-"), False, cell, shown)


def _code(cell: CodeCell, names: dict[str, str], consts: dict[str, str], provided: set[str],
          served: set[str], served_text: str, lang: str) -> list[Finding]:
    out = []
    for node, guarded in walk(cell.tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module == "google.colab" or module.startswith("google.colab."):
                    full = module
                    if isinstance(node, ast.ImportFrom) and module == "google.colab":
                        full = ", ".join(f"{module}.{a.name}" for a in node.names)
                    key = "colab_guarded" if guarded else "colab_import"
                    out.append(Finding(key, tr(CATALOG, key, lang, module=full), not guarded, cell.number,
                                       cell.line_of("google.colab")))
            continue
        if not isinstance(node, ast.Call) or is_ipython(node):
            continue
        name = qualified(node.func, names) or ""
        shown = cell.line_of(name.rsplit(".", 1)[-1] + "(") if name else ""
        if name == "grader.check":
            out.append(Finding("selfcheck_cell", tr(CATALOG, "selfcheck_cell", lang, command=shown), False,
                               cell.number, shown))
        elif name.startswith("google.colab.") and name.endswith(".mount"):
            key = "colab_guarded" if guarded else "drive_mount"
            out.append(Finding(key, tr(CATALOG, key, lang, module="google.colab.drive"), not guarded,
                               cell.number, shown))
        elif name in DOWNLOAD_CALLS:
            out.append(Finding("download", tr(CATALOG, "download", lang, command=shown), True, cell.number, shown))
        elif name.endswith(".get_file") or name == "get_file":
            wanted = _get_file_names(node, consts)
            if not wanted & served:
                out.append(Finding("keras_download", tr(CATALOG, "keras_download", lang, command=shown,
                                                        file=sorted(wanted)[0] if wanted else "?",
                                                        served=served_text), True, cell.number, shown))
        elif ".datasets." in name and name.endswith(".load_data"):
            dataset = name.split(".")[-2]
            groups = KERAS_DATASETS.get(dataset)
            if groups and not all(g & served for g in groups):
                out.append(Finding("keras_download", tr(CATALOG, "keras_download", lang, command=shown,
                                                        file=sorted(groups[0])[0], served=served_text),
                                   True, cell.number, shown))
        elif ".applications." in name and name.endswith(".decode_predictions"):
            if CLASS_INDEX not in served:  # Keras fetches ImageNet's class names with get_file
                out.append(Finding("keras_download", tr(CATALOG, "keras_download", lang, command=shown,
                                                        file=CLASS_INDEX, served=served_text), True, cell.number,
                                   shown))
        elif ".applications." in name and name.rsplit(".", 1)[-1][:1].isupper() and _downloads_weights(node):
            # a model class (MobileNetV2, ResNet50); preprocess_input and the like download nothing
            app = "".join(ch for ch in name.rsplit(".", 1)[-1].lower() if ch.isalnum())
            if not any(app in "".join(ch for ch in s.lower() if ch.isalnum()) for s in served):
                out.append(Finding("weights", tr(CATALOG, "weights", lang, command=shown, served=served_text),
                                   False, cell.number, shown))
        elif name.rsplit(".", 1)[-1] in ("system", "run", "call", "check_call", "check_output", "Popen", "getoutput"):
            text = _command_text(node, consts)
            if text:
                out += _shell(cell, "!", text, provided, lang)
        elif name.rsplit(".", 1)[-1] not in F.SHOWN and (url := _url_argument(node, consts)):
            shown = cell.line_of(url[:40])
            out.append(Finding("download", tr(CATALOG, "download", lang, command=shown), True, cell.number, shown))
    if any(f.kind == "drive_mount" for f in out):  # one message for `from google.colab import drive` + mount
        out = [f for f in out if not (f.kind == "colab_import" and "google.colab.drive" in f.message)]
    return out


def _url_argument(node: ast.Call, consts: dict[str, str]) -> str | None:
    """The URL a call is given (`pd.read_csv("https://...")` downloads it), or None."""
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        value = string_value(arg, consts, prefix=True)
        if value and value.lower().startswith(("http://", "https://", "ftp://")):
            return value
    return None


def _get_file_names(node: ast.Call, consts: dict[str, str]) -> set[str]:
    fname = string_value(node.args[0], consts) if node.args else None
    origin = string_value(node.args[1], consts) if len(node.args) > 1 else None
    for k in node.keywords:
        if k.arg == "fname":
            fname = string_value(k.value, consts)
        elif k.arg == "origin":
            origin = string_value(k.value, consts)
    out = {fname.replace("\\", "/").rsplit("/", 1)[-1]} if fname else set()
    if origin:
        out.add(origin.rstrip("/").rsplit("/", 1)[-1].split("?")[0])
    return out


def _downloads_weights(node: ast.Call) -> bool:
    for k in node.keywords:
        if k.arg == "weights":
            return isinstance(k.value, ast.Constant) and k.value.value == "imagenet"
    return True  # Keras' default is weights="imagenet"


def _command_text(node: ast.Call, consts: dict[str, str]) -> str | None:
    """`os.system("pip install x")`, `subprocess.run(["pip", "install", "x"])` -> the command line."""
    if not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, (ast.List, ast.Tuple)):
        parts = [string_value(e, consts) for e in arg.elts]
        return " ".join(parts) if parts and all(p is not None for p in parts) else None
    return string_value(arg, consts)


def _local_modules(cells: list[CodeCell], folder: Path, lang: str) -> list[Finding]:
    out = []
    for cell in cells:
        for node in cell.tree.body if cell.tree is not None else []:
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for module in modules:
                root = module.split(".")[0]
                for candidate in (f"{root}.py", f"{root}/__init__.py"):
                    if (folder / candidate).is_file():
                        out.append(Finding("local_module", tr(CATALOG, "local_module", lang, module=root,
                                                              file=candidate), False, cell.number,
                                           cell.line_of(root), candidate))
                        break
    return out
