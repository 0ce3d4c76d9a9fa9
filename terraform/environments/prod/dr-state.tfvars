# Where dr left the estate, read by both stacks (-var-file=../environments/<env>/dr-state.tfvars).
# dr's report names the value to set here after every failover, reprotect and failback:
#   active    = the side serving traffic, whose databases are the writers
#   protected = the other side holds read replicas of them again (after reprotect)
dr_state = {
  active    = "primary"
  protected = true
}
