# dr's shared journal in this region (dr.yaml `journal.dynamodb_table`): every record of a run
# is one item, `run` = dr/APP/ENV/RUN_ID and `seq` = its number, put conditionally by dr
# itself in the table of each region. The tables are deliberately not a global table: dr
# writes each region's copy and relies on the conditional put to refuse a second writer;
# replication would merge two writers' records instead of refusing one.
resource "aws_dynamodb_table" "journal" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "run"
  range_key    = "seq"

  attribute {
    name = "run"
    type = "S"
  }

  attribute {
    name = "seq"
    type = "N"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # A run's journal is what a resume from another machine trusts.
  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = var.deletion_protection
  tags                        = merge(var.tags, { Module = "dr-journal", Name = var.table_name })
}
