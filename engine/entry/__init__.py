"""The door's entry policy, one module a job: the policy and its checks (zones and re-entry), the
presence a ticket keeps in each zone, the decision for one scan, and the replay that reconciles
every scan of a ticket, online and offline, through the same rules.
"""
