//! Identity: who a party can claim to be. Party ids are a closed syntax (no
//! character a store or filter could read as a pattern), and the names the
//! exchange keeps for its own actors cannot be registered.

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, violated_fields};
use tonic::Code;

fn contractor(id: &str) -> pb::Party {
    pb::Party {
        party_id: id.into(),
        kind: pb::PartyKind::Contractor as i32,
        nation: "KOR".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_party_id_with_a_pattern_character_cannot_be_registered() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut registry = ex.registry(party::COORDINATOR).await?;
    for id in ["KOR_KAI_SACHEON", "KOR%", "KOR-KAI,SACHEON", "KOR--KAI", "-KOR", "KOR-", "kor-kai", "KOR.KAI", "9KOR"] {
        let refused = registry
            .register_party(pb::RegisterPartyRequest { party: Some(contractor(id)), request_id: String::new() })
            .await
            .expect_err(id);
        assert_eq!(refused.code(), Code::InvalidArgument, "{id}: {refused:?}");
        assert_eq!(violated_fields(&refused), vec!["party.party_id".to_owned()], "{id}");
    }
    // A certificate naming such an id does not authenticate either.
    let impostor = ex.exchange("KOR_KAI_SACHEON").await;
    if let Ok(mut impostor) = impostor {
        let refused = impostor.list_repair_orders(pb::ListRepairOrdersRequest::default()).await.expect_err("served");
        assert!(matches!(refused.code(), Code::Unauthenticated | Code::PermissionDenied), "{refused:?}");
    }
    Ok(())
}

#[tokio::test]
async fn the_exchanges_own_actor_ids_cannot_be_registered() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut registry = ex.registry(party::COORDINATOR).await?;
    for id in ["COSX-SIGNALS", "COSX-ANYTHING"] {
        let refused = registry
            .register_party(pb::RegisterPartyRequest { party: Some(contractor(id)), request_id: String::new() })
            .await
            .expect_err(id);
        assert_eq!(refused.code(), Code::InvalidArgument, "{id}: {refused:?}");
        assert_eq!(violated_fields(&refused), vec!["party.party_id".to_owned()], "{id}");
        assert!(refused.message().contains("reserved"), "{}", refused.message());
    }
    let listed = registry.list_parties(pb::ListPartiesRequest::default()).await?.into_inner();
    assert!(listed.parties.iter().all(|p| !p.party_id.starts_with("COSX-")), "{listed:?}");
    Ok(())
}
