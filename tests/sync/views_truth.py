#!/usr/bin/env python3
"""Figures the views must give, computed from the simulator's /__truth JSON alone:
  views_truth.py TRUTH.json daily   -> "YYYY-MM-DD|office|net total" per day and office
  views_truth.py TRUTH.json cxc     -> "client|balance" per client with credit documents
Voided documents (state != 0) count nowhere; credit notes subtract their own lines; a line carried
into a later active non-credit-note document (its relatedDetailId) counts only there."""
import collections
import datetime
import json
import sys


def ref(obj, key):
    v = (obj.get(key) or {}).get("id")
    return int(v) if v not in (None, "") else None


def main():
    truth = json.load(open(sys.argv[1]))
    credit_note_type = {t["id"]: t["isCreditNote"] == 1 for t in truth["document_types"]}
    docs = {d["id"]: d for d in truth["documents"] if d["state"] == 0}
    is_cn = {i: credit_note_type[ref(d, "document_type")] for i, d in docs.items()}
    lines = [l for l in truth["document_details"] if l["document_id"] in docs]
    carried = {l["relatedDetailId"] for l in lines
               if l["relatedDetailId"] and not is_cn[l["document_id"]]}
    if sys.argv[2] == "daily":
        net = collections.defaultdict(float)
        for l in lines:
            if l["id"] in carried:
                continue
            d = docs[l["document_id"]]
            day = datetime.datetime.fromtimestamp(d["emissionDate"], datetime.timezone.utc)
            sign = -1 if is_cn[d["id"]] else 1
            net[(day.date().isoformat(), ref(d, "office"))] += sign * float(l["totalAmount"])
        for (day, office), total in sorted(net.items()):
            print(f"{day}|{office}|{total:.2f}")
        return
    client_credit = {t["id"] for t in truth["payment_types"] if t["isClientCredit"] == 1}
    pays = {p["id"]: p for p in truth["payments"] if p["state"] == 0}
    credit_docs, paid = set(), collections.defaultdict(float)
    for p in pays.values():
        doc = ref(p, "document")
        if doc is None:
            continue
        if ref(p, "payment_type") in client_credit:
            credit_docs.add(doc)
        else:
            paid[doc] += float(p["amount"])
    for x in truth["payment_documents"]:
        credit_docs.add(int(x["id"]))
        if x["payment_id"] in pays:
            paid[int(x["id"])] += float(x["amount"])
    balance = collections.defaultdict(float)
    for i in credit_docs:
        if i in docs and not is_cn[i]:
            d = docs[i]
            balance[ref(d, "client")] += float(d["totalAmount"]) - paid[i]
    for client, total in sorted(balance.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        print(f"{'<null>' if client is None else client}|{total:.2f}")


main()
