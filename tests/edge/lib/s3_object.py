"""Damages one object on the edge tests' S3 server, for the akidb verify tests:
    s3_object.py flip KEY      flips one bit of the byte in the middle of the object
    s3_object.py delete KEY    deletes it
Endpoint, bucket and credentials from the AKIDB_S3_* variables tests/edge/run.sh exports.
"""
import os
import sys

import boto3

op, key = sys.argv[1], sys.argv[2]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["AKIDB_S3_ENDPOINT"],
    aws_access_key_id=os.environ["AKIDB_S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AKIDB_S3_SECRET_ACCESS_KEY"],
    region_name=os.environ.get("AKIDB_S3_REGION", "us-east-1"),
)
bucket = os.environ["AKIDB_S3_BUCKET"]
if op == "flip":
    body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0x10
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
elif op == "delete":
    s3.delete_object(Bucket=bucket, Key=key)
else:
    sys.exit(f"unknown operation {op}")
