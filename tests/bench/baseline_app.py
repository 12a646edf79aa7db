"""The baseline a copnet write is compared with: a minimal Flask + pymongo handler, one insert."""

from __future__ import annotations

import os

import bson
import pymongo
from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)
    collection = None

    @app.post("/communities")
    def create_community():
        nonlocal collection
        if collection is None:  # after fork, like the gateway's channels
            collection = pymongo.MongoClient(os.environ["BASELINE_MONGODB_URI"])["baseline"]["communities"]
        body = request.get_json()
        document = {"_id": str(bson.ObjectId()), "name": body["name"], "kind": body["kind"],
                    "host_organization_id": body["host_organization_id"]}
        collection.insert_one(document)
        return jsonify({"id": document["_id"], **body}), 201

    return app
