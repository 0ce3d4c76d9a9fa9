"""The timeouts tests give the region a run moves away from.

The product's IMPATIENT (connect 2 s, read 3 s) is sized for AWS, which answers a describe
call in well under a second. moto on a loaded test machine (four workers on two cores) was
seen to take over 2 s, so tests wait 5 s before they take a call for an outage; and they
retry a throttled or failed call once, not five times, so a region made to hang costs a test
seconds."""

import dataclasses

from dr.aws.gateway import IMPATIENT

LEFT_REGION = dataclasses.replace(IMPATIENT, read=5, attempts=2)
