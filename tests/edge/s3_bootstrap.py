"""Prepares a freshly started ministack (AUTH=true) for the edge tests: an IAM user with an
S3-only policy, its access key, and a bucket. Prints `export` lines for the shell.

With AUTH=true the root key test/test is not signature-checked, so the tests use the IAM
user's key: a wrong secret then really gives 403 SignatureDoesNotMatch.
"""
import json
import sys

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
root = dict(endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
iam = boto3.client("iam", **root)
iam.create_user(UserName="akidb-edge")
key = iam.create_access_key(UserName="akidb-edge")["AccessKey"]
policy = iam.create_policy(
    PolicyName="akidb-edge-s3",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
)
iam.attach_user_policy(UserName="akidb-edge", PolicyArn=policy["Policy"]["Arn"])
boto3.client("s3", **root).create_bucket(Bucket=bucket)
print(f"export AKIDB_S3_ENDPOINT={endpoint}")
print("export AKIDB_S3_REGION=us-east-1")
print(f"export AKIDB_S3_BUCKET={bucket}")
print(f"export AKIDB_S3_ACCESS_KEY_ID={key['AccessKeyId']}")
print(f"export AKIDB_S3_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
