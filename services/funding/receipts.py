"""A contribution's receipt (tanda terima) as a PDF made with fpdf2: the city and the programme,
the donor, the amount in figures and in Indonesian words, the date, method and reference, and
the verification code the public route `GET /receipts/verify/{code}` checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from services.funding.domain.rules import rupiah
from services.funding.domain.terbilang import terbilang

METHODS_ID = {"transfer": "Transfer bank", "cash": "Tunai", "in_kind": "Natura (barang)"}
MONTHS_ID = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
ERASED = "(data pribadi telah dihapus)"


@dataclass(frozen=True)
class Receipt:
    city: str
    contribution_id: str
    donor_id: str
    donor_name: str | None  # None once the donor's personal data is erased
    donor_type: str
    amount_rp: int
    received_on: date
    method: str
    reference: str | None
    verification_code: str


def tanggal(day: date) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def render(receipt: Receipt) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title("Tanda Terima")
    pdf.set_creator("Genting")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, "TANDA TERIMA", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Gerakan Orang Tua Asuh Cegah Stunting - {receipt.city}", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    words = terbilang(receipt.amount_rp)
    for label, value in (
        ("Telah diterima dari", receipt.donor_name or ERASED),
        ("Jenis donatur", receipt.donor_type),
        ("Sejumlah", rupiah(receipt.amount_rp)),
        ("Terbilang", words[0].upper() + words[1:]),
        ("Tanggal diterima", tanggal(receipt.received_on)),
        ("Cara", METHODS_ID.get(receipt.method, receipt.method)),
        ("Referensi", receipt.reference or "-"),
        ("Nomor kontribusi", receipt.contribution_id),
    ):
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(45, 7, label)
        pdf.set_font("Helvetica", "B" if label in ("Sejumlah", "Terbilang") else "", 10)
        pdf.multi_cell(0, 7, f": {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        f"Kode verifikasi: {receipt.verification_code}\n"
        "Keaslian tanda terima ini dapat diperiksa pada halaman transparansi program dengan kode di atas.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
