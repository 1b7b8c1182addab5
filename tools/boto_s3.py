#!/usr/bin/env python3
"""tools/boto_s3.py: put or get one object with boto3, the AWS SDK, for the
interoperability checks of tests/s3/run (objects holdfast writes read back by
boto3 byte for byte, and the other way round).

Usage: boto_s3.py ENDPOINT CA_FILE get|put BUCKET KEY FILE
Credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY.
"""
import os
import sys

import boto3
import botocore.config

endpoint, ca, op, bucket, key, path = sys.argv[1:7]
options = {"s3": {"addressing_style": "path"}, "signature_version": "s3v4"}
try:
    # Newer botocore adds streaming checksums by default; plain SigV4 here.
    config = botocore.config.Config(request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required", **options)
except TypeError:
    config = botocore.config.Config(**options)
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", verify=ca,
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], config=config)
if op == "get":
    with open(path, "wb") as f:
        f.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
else:
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
