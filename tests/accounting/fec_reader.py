"""Reading a FEC back with pandas, an independent parser, to check what the writer produced
(pandas is a test dependency: the application only writes FECs)."""
import csv

from backoffice.accounting.exports import ExportError, parse_amount
from backoffice.accounting.fec import FEC_COLUMNS, FecError


def read_fec(source, encoding: str = "utf-8"):
    """Read a FEC (a path or a binary file object) into a pandas DataFrame of strings, with
    Debit, Credit (and Montantdevise where filled) parsed to ``Decimal``. For tests and
    verification: a header other than ``FEC_COLUMNS`` or a malformed amount (e.g. with a dot)
    raises ``FecError``."""
    import pandas as pd

    frame = pd.read_csv(source, sep="\t", dtype=str, encoding=encoding,
                        quoting=csv.QUOTE_NONE, keep_default_na=False, na_filter=False)
    if tuple(frame.columns) != FEC_COLUMNS:
        raise FecError(f"En-tête FEC inattendu : {list(frame.columns)}.", "header")
    for column in ("Debit", "Credit"):
        frame[column] = _parse_column(frame[column], column)
    frame["Montantdevise"] = [None if text == "" else parse_amount(text)
                              for text in frame["Montantdevise"]]
    frame["Montantdevise"] = frame["Montantdevise"].astype(object)
    return frame


def _parse_column(series, column: str):
    import pandas as pd

    values = []
    for position, text in enumerate(series, start=2):
        try:
            values.append(parse_amount(text))
        except ExportError as error:
            raise FecError(f"Ligne {position}, champ {column} : {error}", "amount") from None
    return pd.Series(values, index=series.index, dtype=object)
