#!/usr/bin/env python3
"""Writes etc/sample-plan.csv: the Maidstone Equality Objectives and Action
Plan 2022-2025 (with its timeframes) and its later update, transcribed from
the council's documents into the spreadsheet form councils export.

Text is as written in the documents (typos included); an action that the
original lists beside others in one table cell gets its own row, with the
commitment carried on that row, as a spreadsheet would hold it. The file is
committed; this script documents where each row came from and rebuilds it.
"""
import csv
import sys

CL = "As a Community Leader"
EM = "As an Employer"
SP = "As a Service Provider"

C_PARTNERS = ("We will work closely with our partners (Voluntary and Community Sector, "
              "Anchor Institutions, Parishes and Church and Faith groups) to:\n"
              "• Identify opportunities for joined up working and improving our ability to "
              "share information to support and engage our wider communities\n"
              "• Increase volunteering opportunities and participation, funding and support")
C_CONSULT = ("We will undertake a review of consultation and engagement activities to ensure "
             "that they maximise resident participation and are representative of Maidstone’s "
             "demographic.")
C_PROMOTE = ("We will support and promote diversity and inclusion in the borough through our "
             "communications and events – with a focus on our seldom-heard communities.")
C_ARMED = ("We will support our serving and veteran communities through our commitment to the "
           "Armed Forces Covenant and responsibilities under the Armed Forces Act 2021 with "
           "guidance provided to staff across all services.")
C_TRAIN = ("We will train our staff so that they are skilled in inclusive practice, to work with "
           "communities who are less able, or willing, to participate in life in their local "
           "neighbourhoods.")
C_BEHAVE = ("We will provide training and support to staff so they can recognise and manage "
            "unacceptable behaviours")
C_COMMUNITY = "We will creating a strong, internal sense of community within the organisation."
C_MH = ("We will look after the mental health of our staff and recognise when this offer needs "
        "to change")
C_LANG = "We will use specific and meaningful language when referring to diverse communities"
C_ACCESS = ("We will support access to services and support through ICT process, communication "
            "and join up with partners")
C_EVIDENCE = ("We will take an evidence-based approach to leading recovery in Maidstone "
              "including a specific work stream on communities.")
C_EQIA = "We will review the Equalities Impact Assessment processes."
C_POLICY = ("We will review and identify our policies where we consider equalities impacts and "
            "identify how we can improve outcomes through revisions to policy.")
C_EVIDENCE_2 = ("We will take an evidence-based approach to leading recovery supporting financial "
                "inclusion and social well-being in Maidstone. including a specific work stream "
                "on communities.")

HEADER = ["Ref", "Objective", "Commitments", "Actions", "Responsibility", "Timeframe", "Status",
          "Progress"]

# 2022-2025 plan, with timeframes (seed 000)
PLAN = [
    (CL, C_PARTNERS, "Create join up with Housing Associations to deliver hardship payments as part of the Xantura project", "Housing/Revs and Bens", "April 2023"),
    (CL, C_PARTNERS, "Implement no wrong door (local campaign to signpost to services) – increasing access to services", "All teams (led by Inclusion board)", "March 2023"),
    (CL, C_PARTNERS, "Provide access to digital training and support at Trinity House.", "Housing\nCommunities, Policy & Engagement team", "Review Jan 2023"),
    (CL, C_CONSULT, "Increase response rates from underrepresented groups through us of Let’s Talk Maidstone (the Council’s new public engagement platform)", "Communities, Policy & Engagement team", "Review Jan 2023"),
    (CL, C_PROMOTE, "Expand internal Equality Diversity and Inclusion Group to provide internal direction and challenge", "Communities, Policy & Engagement team", "Jan 2023"),
    (CL, C_PROMOTE, "Create Diversity Calendar - Annual calendar of events to celebrate diversity and promote inclusion in Maidstone", "Equality, Diversity and Inclusion Officer Group", "March 2023"),
    (CL, C_ARMED, "Provide guidance to enable all staff to support Armed Forces Community", "Policy, Communities & Engagement team", "March 2023"),
    (EM, C_TRAIN, "Provide Staff training in Cultural Competencies", "HR", "Review Jan 2023"),
    (EM, C_BEHAVE, "Introduce Equalities Champions (including elected member and senior leadership)", "Policy Communities & Engagement team", "April 2023"),
    (EM, C_BEHAVE, "Deliver the Culture change project", "HR", "Ongoing"),
    (EM, C_COMMUNITY, "Introduce Annual staff EDI survey to identify need and benchmark progress", "Policy, Communities & Engagement team", "Jan 2023"),
    (EM, C_MH, "Provide training and support for Mental Health Champions", "HR", "Ongoing"),
    (SP, C_LANG, "Adopt of LGA Inclusive Language Guide", "Policy, Communities & Engagement team", "April 2023"),
    (SP, C_ACCESS, "Proactively use 'neutral spaces' to increase access to support and services for residents", "Equality, Diversity and Inclusion Officer Group\nAll Services", "Review Jan 2023"),
    (SP, C_EVIDENCE, "Identify emerging needs from Census data", "Data Analytics team", "Dec 2023 (ongoing release)"),
    (SP, C_EQIA, "Include 'Poverty' as a local protected characteristic with the EqIA process", "Policy, Communities & Engagement team", "Jan 2023"),
    (SP, C_POLICY, "Include Armed Forces Act 2021 in Equality, Diversity and Inclusion Policy", "Policy, Communities & Engagement team", "Dec 2022"),
    (SP, C_POLICY, "Prioritise existing Policies by review date and implement process of review for equalities.", "Policy, Communities & Engagement team", "Review Feb 2023"),
]

# The later update of the plan (seed 004): timeframes as the update words
# them ("Ongoing Project", "Ongoing Action"), its NEW markers as the status,
# and its description of each action as the progress note.
UPDATE = [
    (CL, C_PARTNERS, "Delivery of One View project", "Housing, Revenues and Benefits, Policy, Communities and Engagement.", "Ongoing Project", "Ongoing", "Continue to deliver the One View homelessness prevention project including exploring additional cohorts and new projects including Damp and Mould"),
    (CL, C_PARTNERS, "Implement no wrong door (local campaign to signpost to services) – increasing access to services", "Housing, Revenues and Benefits, Policy, Communities and Engagement.", "Ongoing Project", "Ongoing", "Ongoing project and It is important that this action remains and continues to be developed with partners in response to ongoing need."),
    (CL, C_PARTNERS, "Develop a greater understanding of our communities through the Implementation of the Community Insight system", "Data Analytics/Democratic Services", "", "NEW", "Provide members with access to profiles of their local communities to inform their work.\nProvide information and training to relevant services to help inform strategy, policy and service development, embedding a culture of community.\nDistribute access to local insight to our VCS partners to enable them to access community data to inform funding bids and service development"),
    (CL, C_PARTNERS, "Provide access to digital training and support at Trinity House.", "Housing/ICT/Policy, Communities and Engagement", "Ongoing Project", "Ongoing", "Training suite up and running.  Training and Support offered. Pilot with Digital Kent Volunteer Programme to support residents at Trinity House undertaken."),
    (CL, C_CONSULT, "Increase engagement from our Seldom Heard Communities", "Policy, Communities and Engagement", "Ongoing Project", "NEW FOCUS", "Work with the consultation institute and successful partner to identify and implement actions to increase engagement with those groups that are seldom heard."),
    (CL, C_CONSULT, "Delivery of Community Grants and support to Community Groups", "Policy, Communities and Engagement", "", "NEW", "Continue to ensure the delivery of grants to those organisations best placed in our communities to ensure the delivery of services at a local level."),
    (CL, C_PROMOTE, "Develop the Equality Diversity and Inclusion officer group to provide internal direction and challenge", "Policy, Communities and Engagement", "Ongoing Project", "NEW FOCUS", "Group has been expanded to include wider group of front-line service areas providing expertise and insight on community and seldom heard groups.  Continue to develop the group, its remit and influence to ensure it is embedded."),
    (CL, C_PROMOTE, "Implement the Diversity Calendar to ensure join up between our communities and key internal teams", "Policy, Communities and Engagement\nHR/L&D, Comms and Events, Museums, Civic team, Economic Development, Communities lead", "Ongoing Project", "Ongoing", "Developing the use of a Diversity Calendar that reflects the curiosity and diversity of staff and the wider community.\nDates of meaning to the organisation to be tied into existing events, community events, well-being week.  Internal ‘celebration’ – information in Inside MBC newsletter, books and art/culture recommendations.\nDevelop a Team talk for Unit Managers to identify dates of meaning to the organisation to celebrate and promote diversity and inclusion."),
    (CL, C_ARMED, "Provide guidance to enable all staff to support Armed Forces Community", "Policy, Communities and Engagement", "Ongoing Project", "Ongoing", "Continue to ensure the Council supports the armed force community in accordance with the covenant.\nIt has been identified that Forces Connect App not sufficient in terms of information for Veterans in local community, explore more ways in which to reach and connect with local veterans in the community."),
    (CL, C_ARMED, "Explore structural inequality impact of climate change in Maidstone", "Policy, Communities and Engagement/ Data Analytics/ Climate Change and Biodiversity", "", "NEW", "Undertake a review to identify and understand areas of inequality and impacts in the borough related to the effects of climate change and explore measures for intervention"),
    (EM, C_TRAIN, "Provide Staff training in Cultural Competencies", "Housing/Human Resources", "", "NEW", "Pursue cultural competency training with the Homelessness Prevention Forum"),
    (EM, C_BEHAVE, "Support delivery of actions to support Inclusion and Belonging for staff in the Workforce Strategy", "Human Resources/ Policy, Communities and Engagement", "", "NEW", "• Provide training to create awareness on EDI\n• Support employees to develop staff network groups i.e. carers, disabilities, LGBTQI+\n• Support the outcomes of the staff survey on equalities.\n• Develop team talks on EDI to discuss at team meetings.\n• Develop creative, inclusive communication mechanisms so all council staff, including those who don’t access information online, are informed of council news and developments.\n• Embed our values and behaviours with all staff.\n• Encourage staff to declare their protected characteristics confidentially through employee self-service.\n• Continue to analyse application and shortlisting data to identify ways to make our recruitment more inclusive and to ensure non-discrimination.\n• Support services to develop appropriate career grade structures for succession planning\n• Continue to promote the benefits package to all staff\n• Review our rewards and employee benefits offer to ensure its competitive with other public sector employers"),
    (EM, C_BEHAVE, "Ensure all new Members have equitable access to support and resources for their role.", "Democratic Services/ Policy, Communities and Engagement", "", "NEW", "Implement a new member survey to identify needs."),
    (EM, C_BEHAVE, "Maintain understanding of the organisation’ s diversity and staff need.", "Policy, Communities and Engagement/ Human Resources", "", "NEW", "Bi-Annual staff EDI survey to respond to need and benchmark progress.\nStaff Carers Survey to be undertaken to understand the needs of staff with caring responsibilities and how best the organisation can provide support.\nRoll out of Corporate Leadership Team ‘lived experiences of working for MBC’ listening exercises"),
    (EM, C_MH, "Provide training and support for Mental Health Champions", "Human Resources", "Ongoing Action", "Ongoing", "Support Delivery of Workforce Strategy Well-Being and Reward Actions:\n• Develop initiatives to increase awareness of resilience and wellbeing.\n• Continue promoting national health and wellbeing initiatives.\n• Continue roll out of Resilience Training to managers and staff.\n• Increase awareness of Mental Health First Aiders."),
    (SP, C_LANG, "Adopt Inclusive Language Guide", "Policy, Communities and Engagement", "Ongoing Action", "Ongoing", "Continue to watch for release of LGA Inclusive Language Guide\nExplore appropriate alternative options"),
    (SP, C_ACCESS, "Proactively use ‘neutral spaces’ to increase access to support and services for residents", "Policy, Communities and Engagement", "Ongoing Action", "Ongoing", "Continue to explore new and existing spaces for Face-to-face support provision and services that it may be appropriate to provide from these spaces"),
    (SP, C_EVIDENCE_2, "Understand where relevant who is accessing our services and ensure that this informs service deliver", "Data Analytics/Information Governance/ Policy, Communities and Engagement", "", "NEW", "Undertake a review of all services to identify EDI data collected and identify purpose and where relevant make improvements to data collection.\nUndertake analysis of demographic data to inform service development and ongoing monitoring.\nCreate space on the website for publication of demographic data."),
    (SP, C_EVIDENCE_2, "Support delivery of Maidstone becoming a Compassionate borough.", "Policy, Communities and Engagement/Communication and Events", "", "NEW", "The Compassionate Maidstone Project has restarted with Heart of Kent Hospice.  Review bereavement policy\nExplore bereavement, death and dying and its impact on service delivery and how this is addressed in policies and procedures.\nWork internally with relevant teams and the EDI Officer group and externally with community partners to explore how death and dying can become a part of conversation."),
    (SP, C_EQIA, "Support delivery of the Financial Inclusion and Social Well-Being Strategy and Action Plan.", "Policy, Communities and Engagement/Data Analytics", "", "NEW", "The current Financial Inclusion Strategy is under review. The review is data led and being informed by the LIFT Dashboard, Community Insight Tool alongside wider measurements of Poverty and disadvantage are informing the strategy aims and workstreams.\nThis Strategy will seek to respond to the wider determinants of financial exclusion affecting residents in Maidstone."),
    (SP, C_POLICY, "Ensure EDI is embedded in policies and service development", "Policy, Communities and Engagement/HR", "Ongoing Action", "Ongoing", "Prioritise existing Policies by review date and implement process of review for equalities.\nWork with Service Managers on understanding of the Public Sector Equality duty."),
]


def main(path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        for i, (obj, com, act, own, tf) in enumerate(PLAN, 1):
            w.writerow([f"EAP22-{i:02d}", obj, com, act, own, tf, "", ""])
        for i, (obj, com, act, own, tf, st, prog) in enumerate(UPDATE, 1):
            w.writerow([f"EAP23-{i:02d}", obj, com, act, own, tf, st, prog])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "etc/sample-plan.csv")
