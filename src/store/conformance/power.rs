//! Conformance: Power transitions and their tasks.

use super::*;

pub async fn transitions(s: &dyn Store) {
    use crate::model::power::*;
    let now = chrono::Utc::now();
    let t = Transition {
        id: uuid::Uuid::new_v4(),
        operation: PowerOperation::On,
        deadline_minutes: 1,
        deadline_seconds: None,
        boot_target: Some("Pxe".into()),
        created: now,
        expires: now + chrono::Duration::hours(24),
        status: TransitionStatus::New,
        counts: TaskCounts::default(),
    };
    let tasks = vec![
        PowerTask::new("x1c0s0b0n0".into()),
        PowerTask::new("FAKE".into()),
    ];
    s.insert_transition(&t, &tasks).await.unwrap();
    assert!(matches!(
        s.insert_transition(&t, &tasks).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut t2 = t.clone();
    t2.status = TransitionStatus::InProgress;
    let mut done = tasks[1].clone();
    done.status = TaskStatus::Failed;
    done.error = Some("Invalid xname".into());
    assert!(
        s.update_transition(&t2, std::slice::from_ref(&done))
            .await
            .unwrap()
    );
    let (got, got_tasks) = s.get_transition(t.id).await.unwrap().unwrap();
    assert_eq!(got, t2);
    assert_eq!(got_tasks, vec![tasks[0].clone(), done]);
    assert!(
        s.get_transition(uuid::Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
    // An abort request survives progress writes and reads as abort-signaled.
    assert!(!s.transition_abort_requested(t.id).await.unwrap());
    assert!(s.request_transition_abort(t.id).await.unwrap());
    assert!(
        !s.request_transition_abort(uuid::Uuid::new_v4())
            .await
            .unwrap()
    );
    s.update_transition(&t2, &[]).await.unwrap();
    assert!(s.transition_abort_requested(t.id).await.unwrap());
    let (got, _) = s.get_transition(t.id).await.unwrap().unwrap();
    assert_eq!(got.status, TransitionStatus::AbortSignaled);
    let mut t3 = t2.clone();
    t3.status = TransitionStatus::Aborted;
    s.update_transition(&t3, &[]).await.unwrap();
    assert_eq!(s.list_transitions().await.unwrap(), vec![t3.clone()]);
    assert_eq!(s.delete_expired_transitions(now).await.unwrap(), 0);
    assert_eq!(
        s.delete_expired_transitions(now + chrono::Duration::hours(25))
            .await
            .unwrap(),
        1
    );
    assert!(s.get_transition(t.id).await.unwrap().is_none());
}
